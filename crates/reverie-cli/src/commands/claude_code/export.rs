//! A project's store and its Claude Code memory folder kept in step (`folder.rs` decides, this
//! module reads and writes): what Claude Code or the user changed in the folder is read back
//! into the store first — as versions by the Claude Code session that wrote it, when its
//! transcript says so — then the store's memory is written out. A file is only ever replaced
//! or removed when its bytes are the ones just read; one that changed meanwhile is left for
//! the next sync. Every export shows one store revision (recorded in the manifest), so any
//! earlier state of the folder comes back with `reverie restore` and a sync.
//!
//! Where the folder is: `autoMemoryDirectory` from the project's local settings, else from the
//! user's settings (Claude Code ignores it in a project's shared settings), else
//! `<claude dir>/projects/<the repository's main folder, sanitized>/memory`, as Claude Code
//! computes it; nothing when `autoMemoryEnabled` is false.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};
use reverie_core::Actor;
use reverie_store::{MemoryPatch, Store};
use serde_json::Value;

use super::folder::{self, INDEX, MANIFEST, Manifest, ReadBack};

/// The largest file read back: a memory's content limit.
const MAX_FILE: u64 = 102_400;

/// A JSON settings file's top-level key, if the file and key are there.
fn setting(path: &Path, key: &str) -> Option<Value> {
    let text = std::fs::read_to_string(path).ok()?;
    let v: Value = serde_json::from_str(&text).ok()?;
    v.get(key).cloned()
}

/// Claude Code's name for a folder under `projects/`: every character but ASCII letters and
/// digits becomes `-` (one per UTF-16 unit, as its JavaScript does); a name over 200
/// characters is cut and given a hash reverie cannot compute, so the folder already there
/// with that beginning is taken.
pub fn sanitize(path: &str) -> String {
    let mut out = String::new();
    for c in path.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else {
            for _ in 0..c.len_utf16() {
                out.push('-');
            }
        }
    }
    out
}

/// Where Claude Code keeps the memory of the project at `root`, or why there is none.
pub fn memory_folder(claude_dir: &Path, root: &Path) -> std::result::Result<PathBuf, String> {
    let local = root.join(".claude/settings.local.json");
    let shared = root.join(".claude/settings.json");
    let user = claude_dir.join("settings.json");
    for f in [&local, &shared, &user] {
        if setting(f, "autoMemoryEnabled") == Some(Value::Bool(false)) {
            return Err(format!(
                "Claude Code's auto memory is off (autoMemoryEnabled: false in {})",
                f.display()
            ));
        }
    }
    for f in [&local, &user] {
        if let Some(dir) =
            setting(f, "autoMemoryDirectory").and_then(|v| v.as_str().map(str::to_string))
        {
            let dir = match dir.strip_prefix("~/") {
                Some(rest) => std::env::var_os("HOME")
                    .map(|h| PathBuf::from(h).join(rest))
                    .ok_or_else(|| format!("{dir}: HOME is not set"))?,
                None => PathBuf::from(&dir),
            };
            if !dir.is_absolute() {
                return Err(format!(
                    "autoMemoryDirectory {dir:?} in {} is not an absolute path",
                    f.display()
                ));
            }
            return Ok(dir);
        }
    }
    let main = super::project::main_worktree(root);
    let name = sanitize(&main.display().to_string());
    let projects = claude_dir.join("projects");
    if name.len() <= 200 {
        return Ok(projects.join(name).join("memory"));
    }
    let head = format!("{}-", &name[..200]);
    std::fs::read_dir(&projects)
        .ok()
        .into_iter()
        .flatten()
        .filter_map(std::result::Result::ok)
        .find(|e| e.file_name().to_string_lossy().starts_with(&head))
        .map(|e| e.path().join("memory"))
        .ok_or_else(|| {
            format!(
                "{} has a path too long for reverie to name its Claude Code folder before Claude \
                 Code has made it",
                main.display()
            )
        })
}

/// The folder as read: the topic files as text, those that cannot be memories, the index.
#[derive(Debug, Default)]
struct Scan {
    files: BTreeMap<String, String>,
    unreadable: BTreeMap<String, String>,
    index: Option<String>,
    manifest: Option<Manifest>,
}

/// Every file under `dir` (not hidden ones), relative, with `/` between parts.
fn walk(dir: &Path, rel: &str, out: &mut Vec<(String, PathBuf)>) -> Result<()> {
    let rd = match std::fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", dir.display())),
    };
    for entry in rd {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        let path = entry.path();
        let r = if rel.is_empty() {
            name
        } else {
            format!("{rel}/{name}")
        };
        let ty = entry.file_type()?;
        if ty.is_dir() {
            walk(&path, &r, out)?;
        } else if ty.is_file() {
            out.push((r, path));
        }
    }
    Ok(())
}

fn scan(dir: &Path, manifest_of: &str) -> Result<Scan> {
    let mut scan = Scan::default();
    match std::fs::read_to_string(dir.join(MANIFEST)) {
        Ok(text) => match serde_json::from_str::<Manifest>(&text) {
            Ok(m) if m.store_id == manifest_of => scan.manifest = Some(m),
            Ok(m) => anyhow::bail!(
                "{} is the memory folder of another store ({}): give each project a folder of its \
                 own (autoMemoryDirectory in the project's .claude/settings.local.json)",
                dir.display(),
                m.store_id
            ),
            // An unreadable manifest: every file is read as new, nothing overwritten unread.
            Err(_) => {}
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => {
            return Err(e).with_context(|| format!("cannot read {}", dir.join(MANIFEST).display()));
        }
    }
    let mut found = Vec::new();
    walk(dir, "", &mut found)?;
    let written = scan.manifest.as_ref().map(|m| &m.files);
    for (rel, path) in found {
        // Topic files are markdown; any other file is the user's, unless reverie wrote it.
        let ours = written.is_some_and(|w| w.contains_key(&rel));
        if rel != INDEX && !rel.ends_with(".md") && !ours {
            continue;
        }
        let size = std::fs::metadata(&path)?.len();
        if size > MAX_FILE {
            scan.unreadable
                .insert(rel, format!("{size} bytes, over a memory's {MAX_FILE}"));
            continue;
        }
        let bytes =
            std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
        let Ok(text) = String::from_utf8(bytes) else {
            scan.unreadable.insert(rel, "not UTF-8 text".into());
            continue;
        };
        if rel == INDEX {
            scan.index = Some(text);
            continue;
        }
        if let Err(e) = reverie_ingest::redact::refuse_secret("content", &text) {
            scan.unreadable.insert(rel, e.to_string());
            continue;
        }
        if let Err(e) = reverie_core::path::validate_path(&format!("/{rel}")) {
            scan.unreadable.insert(rel, e.to_string());
            continue;
        }
        scan.files.insert(rel, text);
    }
    Ok(scan)
}

/// How much earlier than the export a transcript's modification time may read and still
/// count as written after it.
const MTIME_SLACK: std::time::Duration = std::time::Duration::from_secs(2);

/// The Claude Code session that wrote `file` last, if one of `transcripts` (changed since
/// `since`) records a tool call naming it: the newest such transcript's session.
async fn writer(
    s: &dyn Store,
    store_id: &str,
    file: &Path,
    transcripts: &[PathBuf],
    since: Option<std::time::SystemTime>,
) -> Option<Actor> {
    let needle = serde_json::to_string(&file.display().to_string()).ok()?;
    let mut candidates: Vec<(std::time::SystemTime, &PathBuf)> = transcripts
        .iter()
        .filter_map(|t| Some((std::fs::metadata(t).ok()?.modified().ok()?, t)))
        // A filesystem's clock is coarser than ours (ext4 with small inodes keeps seconds,
        // FAT two), so a transcript written just after the export can carry an earlier time.
        .filter(|(m, _)| since.is_none_or(|s| *m + MTIME_SLACK >= s))
        .collect();
    candidates.sort_by_key(|c| std::cmp::Reverse(c.0));
    for (_, t) in candidates {
        let Ok(text) = std::fs::read_to_string(t) else {
            continue;
        };
        if !text.contains(&needle) {
            continue;
        }
        let source = s
            .session_source(store_id, &t.display().to_string())
            .await
            .ok()
            .flatten()?;
        return Some(Actor::Session {
            session_id: source.session_id,
        });
    }
    None
}

/// What one read-back change did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Read {
    pub file: String,
    /// `updated`, `created`, `deleted`, `conflict`, `kept`, `notes`, `unreadable`, `failed`.
    pub change: &'static str,
    pub memory: Option<String>,
    pub detail: Option<String>,
    pub actor: Option<String>,
}

/// What a sync did to one folder.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct FolderReport {
    pub folder: PathBuf,
    pub read: Vec<Read>,
    /// Files written or removed by the export, and left because they changed meanwhile.
    pub written: Vec<String>,
    pub removed: Vec<String>,
    pub left: Vec<String>,
    /// The store revision the folder now shows.
    pub revision: Option<i64>,
    pub unlisted: usize,
}

/// The folder held for one reader and writer at a time (a hook's background and a sync may
/// meet): an advisory lock on a file in it, released when the handle is dropped.
fn lock(dir: &Path) -> Result<std::fs::File> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let path = dir.join(".reverie-export.lock");
    let f = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .with_context(|| format!("cannot open {}", path.display()))?;
    f.lock()
        .with_context(|| format!("cannot lock {}", path.display()))?;
    Ok(f)
}

/// Reads the folder's changes into the store.
pub async fn read_back(
    s: &dyn Store,
    store_id: &str,
    dir: &Path,
    transcripts: &[PathBuf],
    fallback: &Actor,
) -> Result<Vec<Read>> {
    let _held = lock(dir)?;
    read_back_held(s, store_id, dir, transcripts, fallback).await
}

async fn read_back_held(
    s: &dyn Store,
    store_id: &str,
    dir: &Path,
    transcripts: &[PathBuf],
    fallback: &Actor,
) -> Result<Vec<Read>> {
    let scan = scan(dir, store_id)?;
    let state = s.store_state(store_id).await?;
    let ops = folder::read_back(
        scan.manifest.as_ref(),
        &scan.files,
        &scan.unreadable,
        scan.index.as_deref(),
        &state.memories,
    );
    let since = scan
        .manifest
        .as_ref()
        .and_then(|m| reverie_core::Timestamp::parse(&m.exported_at))
        .map(|t| {
            std::time::UNIX_EPOCH
                + std::time::Duration::from_micros(u64::try_from(t.micros()).unwrap_or(0))
        });
    // The manifest moved on past what is read in, so that nothing is read twice.
    let mut consumed = scan.manifest.clone().unwrap_or_else(|| Manifest {
        store_id: store_id.to_string(),
        ..Manifest::default()
    });
    let mut out = Vec::new();
    for op in ops {
        let actor = writer(s, store_id, &dir.join(op.file()), transcripts, since)
            .await
            .unwrap_or_else(|| fallback.clone());
        let r = apply(s, store_id, &op, &actor).await;
        if r.is_ok() {
            consume(&mut consumed, &op, &scan, &state.memories);
        }
        let (change, memory, detail) = match (&op, r) {
            (_, Err(e)) => ("failed", None, Some(format!("{e:#}"))),
            (ReadBack::Update { memory, .. }, Ok(())) => ("updated", Some(memory.clone()), None),
            (ReadBack::Create { memory, .. }, Ok(())) => ("created", Some(memory.clone()), None),
            (ReadBack::Delete { memory, .. }, Ok(())) => ("deleted", Some(memory.clone()), None),
            (
                ReadBack::Conflict {
                    memory, kept_as, ..
                },
                Ok(()),
            ) => (
                "conflict",
                Some(kept_as.clone()),
                Some(format!(
                    "{memory} changed in the store and in the folder since the last export: the \
                     folder's version is kept as {kept_as}, beside the store's"
                )),
            ),
            (ReadBack::KeptDeleted { memory, .. }, Ok(())) => (
                "kept",
                Some(memory.clone()),
                Some(
                    "deleted from the folder, but changed in the store since the last export: \
                     the store's newer content is kept"
                        .into(),
                ),
            ),
            (ReadBack::IndexLines { lines }, Ok(())) => (
                "notes",
                Some(folder::NOTES.into()),
                Some(format!("{} lines added to {INDEX}", lines.len())),
            ),
            (ReadBack::Unreadable { why, .. }, Ok(())) => (
                "unreadable",
                None,
                Some(format!("left in the folder as it is: {why}")),
            ),
        };
        let actor = match change {
            "updated" | "created" | "deleted" | "conflict" | "notes" => {
                Some(format!("{}:{}", actor.kind(), actor.id()))
            }
            _ => None,
        };
        out.push(Read {
            file: op.file().to_string(),
            change,
            memory,
            detail,
            actor,
        });
    }
    if let Some(index) = &scan.index {
        // Lines of the index that were not read in (a failure) are kept for the next read.
        if !out.iter().any(|r| r.file == INDEX && r.change == "failed") {
            consumed.index = index.clone();
        }
    }
    if !out.is_empty() || scan.manifest.is_none() {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        write_atomic(
            &dir.join(MANIFEST),
            serde_json::to_string_pretty(&consumed)?.as_bytes(),
        )?;
    }
    Ok(out)
}

/// The manifest once `op` is read in: the file's bytes as read are the ones it knows.
fn consume(m: &mut Manifest, op: &ReadBack, scan: &Scan, memories: &[reverie_core::Memory]) {
    let file = op.file().to_string();
    let bytes = scan.files.get(&file).map(|t| folder::digest(t.as_bytes()));
    let store_sha = |path: &str| {
        memories
            .iter()
            .find(|m| m.path == path)
            .map(|m| m.content_sha256.clone())
            .unwrap_or_default()
    };
    match op {
        ReadBack::Update {
            memory, content, ..
        }
        | ReadBack::Create {
            memory, content, ..
        } => {
            let prefix = m
                .files
                .get(&file)
                .map(|r| r.prefix.clone())
                .unwrap_or_default();
            let prefix = if matches!(op, ReadBack::Update { .. }) {
                prefix
            } else {
                String::new()
            };
            m.files.insert(
                file,
                folder::Exported {
                    memory: memory.clone(),
                    blake3: bytes.unwrap_or_default(),
                    content_sha256: reverie_core::content::sha256_hex(content),
                    prefix,
                },
            );
        }
        ReadBack::Conflict { memory, .. } => {
            // The file is read (its content is kept as a memory of its own); it gets the
            // store's version at the export.
            m.files.insert(
                file,
                folder::Exported {
                    memory: memory.clone(),
                    blake3: bytes.unwrap_or_default(),
                    content_sha256: store_sha(memory),
                    prefix: String::new(),
                },
            );
        }
        ReadBack::Delete { .. } | ReadBack::KeptDeleted { .. } => {
            m.files.remove(&file);
        }
        ReadBack::IndexLines { .. } | ReadBack::Unreadable { .. } => {}
    }
}

async fn apply(s: &dyn Store, store_id: &str, op: &ReadBack, actor: &Actor) -> Result<()> {
    match op {
        ReadBack::Update {
            memory,
            expected_sha256,
            content,
            ..
        } => {
            let m = s.get_memory_by_path(store_id, memory).await?;
            let patch = MemoryPatch {
                content: Some(content.clone()),
                path: None,
                precondition_content_sha256: Some(expected_sha256.clone()),
            };
            s.update_memory(store_id, &m.id, patch, actor).await?;
        }
        ReadBack::Create {
            memory, content, ..
        } => {
            s.create_memory(store_id, memory, content, actor).await?;
        }
        ReadBack::Conflict {
            kept_as, content, ..
        } => {
            s.create_memory(store_id, kept_as, content, actor).await?;
        }
        ReadBack::Delete {
            memory,
            expected_sha256,
            ..
        } => {
            let m = s.get_memory_by_path(store_id, memory).await?;
            s.delete_memory(store_id, &m.id, Some(expected_sha256), actor)
                .await?;
        }
        ReadBack::IndexLines { lines } => {
            let existing = match s.get_memory_by_path(store_id, folder::NOTES).await {
                Ok(m) => Some(m),
                Err(e) if e.error_type() == reverie_core::ErrorType::NotFound => None,
                Err(e) => return Err(e.into()),
            };
            let content =
                folder::append_notes(existing.as_ref().and_then(|m| m.content.as_deref()), lines);
            match existing {
                Some(m) => {
                    let patch = MemoryPatch {
                        content: Some(content),
                        path: None,
                        precondition_content_sha256: Some(m.content_sha256.clone()),
                    };
                    s.update_memory(store_id, &m.id, patch, actor).await?;
                }
                None => {
                    s.create_memory(store_id, folder::NOTES, &content, actor)
                        .await?;
                }
            }
        }
        ReadBack::KeptDeleted { .. } | ReadBack::Unreadable { .. } => {}
    }
    Ok(())
}

/// `bytes` written to `path` by a rename, so a reader sees the old file or the new one.
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().context("a file without a folder")?;
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.reverie-{}", std::process::id()));
    std::fs::write(&tmp, bytes).with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| {
        let _ = std::fs::remove_file(&tmp);
        format!("cannot replace {}", path.display())
    })
}

/// A file's bytes now, `None` when it is not there.
fn current(path: &Path) -> Result<Option<Vec<u8>>> {
    match std::fs::read(path) {
        Ok(b) => Ok(Some(b)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
}

/// Reads the folder's changes back (anything written since the last read), then writes the
/// store's memory out.
pub async fn sync_folder(
    s: &dyn Store,
    store_id: &str,
    dir: &Path,
    transcripts: &[PathBuf],
    fallback: &Actor,
) -> Result<FolderReport> {
    let _held = lock(dir)?;
    let mut report = FolderReport {
        folder: dir.to_path_buf(),
        read: read_back_held(s, store_id, dir, transcripts, fallback).await?,
        ..FolderReport::default()
    };
    // Files whose change could not be read in are not replaced: they are read next time.
    let unread: std::collections::BTreeSet<String> = report
        .read
        .iter()
        .filter(|r| r.change == "failed")
        .map(|r| r.file.clone())
        .collect();
    // The folder as read back; what differs from it when a file is replaced is someone's
    // change made since, which stays for the next sync.
    let seen = scan(dir, store_id)?;
    let state = s.store_state(store_id).await?;
    let rendered = folder::render(&state.memories, &state.policy.budget.index_path);
    let old = seen.manifest.clone().unwrap_or_default();
    let seen_bytes = |rel: &str| -> Option<Vec<u8>> {
        if rel == INDEX {
            return seen.index.clone().map(String::into_bytes);
        }
        seen.files.get(rel).cloned().map(String::into_bytes)
    };
    let mut manifest = Manifest {
        store_id: store_id.to_string(),
        revision: state.store.revision,
        exported_at: reverie_core::Timestamp::now().to_rfc3339(),
        files: BTreeMap::new(),
        index: old.index.clone(),
    };
    for (rel, (bytes, record)) in &rendered.files {
        let path = dir.join(rel);
        let now = current(&path)?;
        if seen.unreadable.contains_key(rel) || unread.contains(rel) || now != seen_bytes(rel) {
            report.left.push(rel.clone());
            if let Some(r) = old.files.get(rel) {
                manifest.files.insert(rel.clone(), r.clone());
            }
            continue;
        }
        if now.as_deref() != Some(bytes.as_bytes()) {
            write_atomic(&path, bytes.as_bytes())?;
            report.written.push(rel.clone());
        }
        manifest.files.insert(rel.clone(), record.clone());
    }
    for (rel, record) in &old.files {
        if rendered.files.contains_key(rel) {
            continue;
        }
        let path = dir.join(rel);
        match current(&path)? {
            Some(b) if folder::digest(&b) == record.blake3 => {
                std::fs::remove_file(&path)
                    .with_context(|| format!("cannot remove {}", path.display()))?;
                report.removed.push(rel.clone());
            }
            Some(_) => report.left.push(rel.clone()),
            None => {}
        }
    }
    let index_path = dir.join(INDEX);
    let now = current(&index_path)?;
    if unread.contains(INDEX) || now != seen_bytes(INDEX) {
        report.left.push(INDEX.into());
    } else {
        if now.as_deref() != Some(rendered.index.as_bytes()) {
            write_atomic(&index_path, rendered.index.as_bytes())?;
            report.written.push(INDEX.into());
        }
        manifest.index = rendered.index.clone();
    }
    let text = serde_json::to_string_pretty(&manifest)?;
    write_atomic(&dir.join(MANIFEST), text.as_bytes())?;
    report.revision = Some(state.store.revision);
    report.unlisted = rendered.unlisted;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folder_names_are_claude_codes() {
        assert_eq!(sanitize("/home/me/my app.v2"), "-home-me-my-app-v2");
        // Outside the BMP: two UTF-16 units, two dashes.
        assert_eq!(sanitize("/é/🦀"), "-----");
    }
}

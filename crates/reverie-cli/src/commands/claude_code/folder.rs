//! Claude Code's memory folder as reverie writes and reads it, without I/O: the store's memories
//! rendered in Claude Code's own format (topic files with `name`, `description` and `type`
//! frontmatter; `MEMORY.md`, one line per topic file within Claude Code's 200 lines and 25 KB),
//! and what changed in the folder since the last export turned into memory writes — edits,
//! new files, deletions, lines added to the index — with conflicts kept on both sides.
//!
//! The manifest (`.reverie-export.json`, beside the files) records what the last export wrote:
//! each file's digest, the memory it came from and the memory's digest then. A file whose bytes
//! differ from the manifest's was changed by someone else and is read back before anything
//! overwrites it.

use std::collections::{BTreeMap, BTreeSet};

use reverie_core::Memory;
use serde::{Deserialize, Serialize};

/// The index Claude Code loads at every session start.
pub const INDEX: &str = "MEMORY.md";
/// What the last export wrote, beside the files.
pub const MANIFEST: &str = ".reverie-export.json";
/// Claude Code loads the index's first 200 lines or 25 KB, whichever comes first.
pub const INDEX_LINES: usize = 200;
pub const INDEX_BYTES: usize = 25_000;
/// The memory that lines written into the index by hand or by Claude Code go to.
pub const NOTES: &str = "/notes.md";
/// The first line of the index, for whoever opens it.
const INDEX_HEAD: &str = "<!-- reverie keeps this index; what you add here is kept in notes.md -->";
/// The longest hook of an index line, in characters.
const HOOK_CHARS: usize = 150;

/// What the last export wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub store_id: String,
    /// The store revision the folder shows.
    pub revision: i64,
    pub exported_at: String,
    /// By file (relative to the folder).
    pub files: BTreeMap<String, Exported>,
    /// The index as written.
    pub index: String,
}

/// One file an export wrote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Exported {
    /// The memory's path.
    pub memory: String,
    /// blake3 of the file's bytes.
    pub blake3: String,
    /// The memory's content digest when written.
    pub content_sha256: String,
    /// The frontmatter written before the memory's content (empty when it had its own).
    pub prefix: String,
}

/// The folder as an export leaves it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// File → its bytes and record.
    pub files: BTreeMap<String, (String, Exported)>,
    pub index: String,
    /// Topic files the index had no room for.
    pub unlisted: usize,
}

pub fn digest(bytes: &[u8]) -> String {
    blake3::hash(bytes).to_hex().to_string()
}

/// A memory's file in the folder: its path without the leading slash.
pub fn file_of(memory_path: &str) -> String {
    memory_path.trim_start_matches('/').to_string()
}

/// The frontmatter a memory already has (`---` … `---` first, with a `name:`), as its fields.
pub fn own_frontmatter(content: &str) -> Option<BTreeMap<String, String>> {
    let rest = content.strip_prefix("---\n")?;
    let end = rest.find("\n---")?;
    let mut fields = BTreeMap::new();
    for line in rest[..end].lines() {
        if let Some((k, v)) = line.split_once(':')
            && !k.starts_with(' ')
        {
            let v = v.trim().trim_matches('"').trim_matches('\'');
            fields.insert(k.trim().to_string(), v.to_string());
        }
    }
    fields.contains_key("name").then_some(fields)
}

/// `s` as a YAML double-quoted scalar on one line.
fn yaml_str(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `s` cut to `max` characters at a word, with an ellipsis when cut.
fn cut(s: &str, max: usize) -> String {
    let s: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if s.chars().count() <= max {
        return s;
    }
    let head: String = s.chars().take(max).collect();
    let at = head
        .rfind(' ')
        .filter(|&i| i > max / 2)
        .unwrap_or(head.len());
    format!("{}…", head[..at].trim_end())
}

/// Markdown emphasis and code marks taken off, for a one-line description.
fn plain(s: &str) -> String {
    s.replace("**", "").replace('`', "")
}

/// The title of a memory: its first heading, else its file's stem in words.
fn title_of(path: &str, content: &str) -> String {
    if let Some(h) = content
        .lines()
        .find(|l| !l.trim().is_empty())
        .and_then(|l| l.strip_prefix("# "))
    {
        return cut(h.trim(), 80);
    }
    let stem = path
        .rsplit('/')
        .next()
        .unwrap_or(path)
        .trim_end_matches(".md");
    let words = stem.replace(['-', '_'], " ");
    let mut chars = words.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => "Notes".into(),
    }
}

/// A topic file's `name`: its path as a slug.
fn name_of(path: &str) -> String {
    let slug: String = path
        .trim_start_matches('/')
        .trim_end_matches(".md")
        .chars()
        .map(|c| {
            if c.is_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    let slug = slug
        .split('-')
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join("-");
    if slug.is_empty() {
        "notes".into()
    } else {
        slug
    }
}

/// Claude Code's memory type for a memory, from its name: what a person asked for or
/// corrected, rules and lessons are `feedback`; definitions and references are `reference`; a
/// memory about the user is `user`; the rest is `project`. (From the path alone, so that the
/// folder is a function of the store's revision.)
fn type_of(path: &str) -> &'static str {
    let stem = path
        .rsplit('/')
        .next()
        .unwrap_or(path)
        .trim_end_matches(".md")
        .to_lowercase();
    let has = |words: &[&str]| words.iter().any(|w| stem.contains(w));
    if has(&["user", "profile", "about-me"]) {
        "user"
    } else if has(&[
        "instruction",
        "lesson",
        "feedback",
        "correction",
        "preference",
        "rule",
        "convention",
    ]) {
        "feedback"
    } else if has(&["glossary", "reference", "link", "term"]) {
        "reference"
    } else {
        "project"
    }
}

/// What an index line says of a memory: its first note, and how many more there are.
fn hook_of(content: &str) -> String {
    let texts: Vec<&str> = content
        .lines()
        .map(|l| l.trim().trim_start_matches("- ").trim())
        .filter(|l| !l.is_empty() && !l.starts_with('#') && !l.starts_with("```"))
        .collect();
    let Some(first) = texts.first() else {
        return "empty".into();
    };
    let first = cut(&plain(first), HOOK_CHARS);
    match texts.len() {
        1 => first,
        n => format!("{first} (+{} more)", n - 1),
    }
}

/// The store's memories as Claude Code's memory folder: a function of the memories alone,
/// so that a store revision always exports as the same folder. The store's own index
/// (`store_index`, the policy's, kept by the dream in the same one-line-per-file shape) is not
/// a topic file: the folder's `MEMORY.md` takes its place.
pub fn render(memories: &[Memory], store_index: &str) -> Rendered {
    let mut files = BTreeMap::new();
    let mut lines: Vec<String> = Vec::new();
    for m in memories.iter().filter(|m| m.path != store_index) {
        let content = m.content.as_deref().unwrap_or("");
        let (prefix, title, hook) = match own_frontmatter(content) {
            Some(f) => (
                String::new(),
                f.get("name").cloned().unwrap_or_else(|| name_of(&m.path)),
                f.get("description")
                    .map(|d| cut(d, HOOK_CHARS))
                    .unwrap_or_else(|| hook_of(content)),
            ),
            None => {
                let hook = hook_of(content);
                let prefix = format!(
                    "---\nname: {}\ndescription: {}\ntype: {}\n---\n\n",
                    name_of(&m.path),
                    yaml_str(&hook),
                    type_of(&m.path)
                );
                (prefix, title_of(&m.path, content), hook)
            }
        };
        let file = file_of(&m.path);
        let bytes = format!("{prefix}{content}");
        let record = Exported {
            memory: m.path.clone(),
            blake3: digest(bytes.as_bytes()),
            content_sha256: m.content_sha256.clone(),
            prefix,
        };
        let title = title.replace(['[', ']'], "");
        let target = file
            .replace(' ', "%20")
            .replace('(', "%28")
            .replace(')', "%29");
        lines.push(format!("- [{title}]({target}) — {hook}"));
        files.insert(file, (bytes, record));
    }
    let mut index = format!("{INDEX_HEAD}\n");
    let mut listed = 0;
    for line in &lines {
        // One line is kept for the count of the unlisted.
        let room_lines = listed + 2 < INDEX_LINES;
        let room_bytes = index.len() + line.len() + 1 + 80 <= INDEX_BYTES;
        if !(room_lines && room_bytes) {
            break;
        }
        index.push_str(line);
        index.push('\n');
        listed += 1;
    }
    let unlisted = lines.len() - listed;
    if unlisted > 0 {
        index.push_str(&format!(
            "- … and {unlisted} more topic files in this folder, not listed here\n"
        ));
    }
    Rendered {
        files,
        index,
        unlisted,
    }
}

/// One change the folder holds that the store does not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadBack {
    /// A file edited since the export, its memory unchanged since: the memory gets the edit.
    Update {
        file: String,
        memory: String,
        expected_sha256: String,
        content: String,
    },
    /// A file no export wrote: a new memory.
    Create {
        file: String,
        memory: String,
        content: String,
    },
    /// A file the export wrote, deleted since, its memory unchanged since: deleted too.
    Delete {
        file: String,
        memory: String,
        expected_sha256: String,
    },
    /// The file and the store both changed since the export (or a new file's path is taken):
    /// the file's content kept as a memory of its own beside the store's.
    Conflict {
        file: String,
        memory: String,
        kept_as: String,
        content: String,
    },
    /// A file deleted from the folder whose memory changed in the store since: the store's
    /// newer content is kept (and exported again).
    KeptDeleted { file: String, memory: String },
    /// Lines added to the index: appended to the notes memory.
    IndexLines { lines: Vec<String> },
    /// A file that cannot be a memory (not UTF-8, too large, a secret in it): left in the
    /// folder as it is and never overwritten until it can be read.
    Unreadable { file: String, why: String },
}

impl ReadBack {
    /// The file the change was read from.
    pub fn file(&self) -> &str {
        match self {
            ReadBack::Update { file, .. }
            | ReadBack::Create { file, .. }
            | ReadBack::Delete { file, .. }
            | ReadBack::Conflict { file, .. }
            | ReadBack::KeptDeleted { file, .. }
            | ReadBack::Unreadable { file, .. } => file,
            ReadBack::IndexLines { .. } => INDEX,
        }
    }
}

/// A free memory path beside `path` for a conflicting copy of it.
fn conflict_path(path: &str, taken: &BTreeSet<String>) -> String {
    let stem = path.strip_suffix(".md").unwrap_or(path);
    (1..)
        .map(|n| {
            if n == 1 {
                format!("{stem}.from-claude-code.md")
            } else {
                format!("{stem}.from-claude-code-{n}.md")
            }
        })
        .find(|p| !taken.contains(p))
        .unwrap_or_else(|| format!("{stem}.from-claude-code.md"))
}

/// Whether an index line only points at a topic file in the folder (the file itself is read).
fn is_link_line(line: &str, present: &BTreeSet<&str>) -> bool {
    let l = line.trim().trim_start_matches(['-', '*']).trim();
    let Some(rest) = l.strip_prefix('[') else {
        return false;
    };
    let Some(target) = rest
        .split_once("](")
        .and_then(|(_, t)| t.split_once(')'))
        .map(|(t, _)| {
            t.replace("%20", " ")
                .replace("%28", "(")
                .replace("%29", ")")
        })
    else {
        return false;
    };
    present.contains(target.as_str())
}

/// The content a memory gets from a file: the file without the frontmatter the export put
/// before it, when that is still there as written — but for its description, which the export
/// derives from the content and an edit of the content may have changed with it —; else the
/// whole file, frontmatter and all, so that nothing written is dropped.
fn content_of(text: &str, prefix: Option<&str>) -> String {
    let Some(p) = prefix.filter(|p| !p.is_empty()) else {
        return text.to_string();
    };
    if let Some(rest) = text.strip_prefix(p) {
        return rest.to_string();
    }
    let block = |t: &str| -> Option<(Vec<String>, usize)> {
        let body = t.strip_prefix("---\n")?;
        let end = body.find("\n---\n\n")?;
        let lines = body[..end]
            .lines()
            .filter(|l| !l.starts_with("description:"))
            .map(str::to_string)
            .collect();
        Some((lines, 4 + end + "\n---\n\n".len()))
    };
    match (block(p), block(text)) {
        (Some((ours, _)), Some((theirs, len))) if ours == theirs => text[len..].to_string(),
        _ => text.to_string(),
    }
}

/// What changed in the folder since `manifest` (none: every file is new to reverie), against
/// the store's memories now. `files` holds the folder's files (index and manifest excluded) as
/// they were read; `unreadable` the ones that cannot be memories, with why.
pub fn read_back(
    manifest: Option<&Manifest>,
    files: &BTreeMap<String, String>,
    unreadable: &BTreeMap<String, String>,
    index: Option<&str>,
    memories: &[Memory],
) -> Vec<ReadBack> {
    let by_path: BTreeMap<&str, &Memory> = memories.iter().map(|m| (m.path.as_str(), m)).collect();
    let mut taken: BTreeSet<String> = memories.iter().map(|m| m.path.clone()).collect();
    let empty = BTreeMap::new();
    let written = manifest.map_or(&empty, |m| &m.files);
    let mut out = Vec::new();
    for (file, why) in unreadable {
        out.push(ReadBack::Unreadable {
            file: file.clone(),
            why: why.clone(),
        });
    }
    for (file, text) in files {
        let record = written.get(file);
        if record.is_some_and(|r| r.blake3 == digest(text.as_bytes())) {
            continue;
        }
        let content = content_of(text, record.map(|r| r.prefix.as_str()));
        let memory = record.map_or_else(|| format!("/{file}"), |r| r.memory.clone());
        let current = by_path.get(memory.as_str());
        // The store's memory as the export left it.
        let unchanged = match (record, current) {
            (Some(r), Some(m)) => m.content_sha256 == r.content_sha256,
            _ => false,
        };
        if current.is_some_and(|m| m.content.as_deref() == Some(content.as_str())) {
            // The store holds it already (an earlier sync read it, or it was never changed).
            continue;
        }
        let op = match (record, current) {
            (Some(_), Some(m)) if unchanged => ReadBack::Update {
                file: file.clone(),
                memory,
                expected_sha256: m.content_sha256.clone(),
                content,
            },
            (None, None) => {
                // A new file whose name is not a memory path of its own: a conflict copy
                // would not help; it is created where it is.
                ReadBack::Create {
                    file: file.clone(),
                    memory,
                    content,
                }
            }
            _ => {
                let kept_as = conflict_path(&memory, &taken);
                taken.insert(kept_as.clone());
                ReadBack::Conflict {
                    file: file.clone(),
                    memory,
                    kept_as,
                    content,
                }
            }
        };
        out.push(op);
    }
    for (file, record) in written {
        if files.contains_key(file) || unreadable.contains_key(file) {
            continue;
        }
        match by_path.get(record.memory.as_str()) {
            Some(m) if m.content_sha256 == record.content_sha256 => out.push(ReadBack::Delete {
                file: file.clone(),
                memory: record.memory.clone(),
                expected_sha256: m.content_sha256.clone(),
            }),
            Some(_) => out.push(ReadBack::KeptDeleted {
                file: file.clone(),
                memory: record.memory.clone(),
            }),
            // Deleted on both sides.
            None => {}
        }
    }
    if let Some(index) = index
        && manifest.is_none_or(|m| m.index != index)
    {
        let before: BTreeSet<&str> = manifest
            .map(|m| m.index.lines().map(str::trim).collect())
            .unwrap_or_default();
        let present: BTreeSet<&str> = files
            .keys()
            .chain(unreadable.keys())
            .map(String::as_str)
            .collect();
        let lines: Vec<String> = index
            .lines()
            .map(str::trim)
            .filter(|l| {
                !l.is_empty()
                    && !before.contains(l)
                    && *l != INDEX_HEAD
                    && !l.starts_with('#')
                    && !is_link_line(l, &present)
            })
            .map(str::to_string)
            .collect();
        if !lines.is_empty() {
            out.push(ReadBack::IndexLines { lines });
        }
    }
    out
}

/// `notes` (a memory's content, or nothing) with `lines` appended as list items.
pub fn append_notes(notes: Option<&str>, lines: &[String]) -> String {
    let mut out = notes.unwrap_or("").to_string();
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
    for l in lines {
        let item = l.trim_start_matches(['-', '*']).trim();
        out.push_str("- ");
        out.push_str(item);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use reverie_core::Timestamp;

    fn memory(path: &str, content: &str) -> Memory {
        Memory {
            id: format!("mem_{}", path.len()),
            memory_store_id: "memstore_x".into(),
            path: path.into(),
            content: Some(content.into()),
            content_sha256: reverie_core::content::sha256_hex(content),
            content_size_bytes: content.len() as i64,
            memory_version_id: "memver_x".into(),
            created_at: Timestamp::now(),
            updated_at: Timestamp::now(),
        }
    }

    fn exported(r: &Rendered) -> (Manifest, BTreeMap<String, String>) {
        let manifest = Manifest {
            store_id: "memstore_x".into(),
            revision: 3,
            exported_at: "now".into(),
            files: r
                .files
                .iter()
                .map(|(f, (_, e))| (f.clone(), e.clone()))
                .collect(),
            index: r.index.clone(),
        };
        let files = r
            .files
            .iter()
            .map(|(f, (b, _))| (f.clone(), b.clone()))
            .collect();
        (manifest, files)
    }

    #[test]
    fn topic_files_carry_claude_codes_frontmatter_and_the_index_points_at_them() {
        let ms = vec![
            memory("/glossary.md", "- **TLH**: short for tallyho\n"),
            memory(
                "/cargo/lessons.md",
                "# Cargo lessons\n\n- `cargo t` needs `DATABASE_URL`\n",
            ),
            memory("/MEMORY.md", "a memory at the index's own path\n"),
        ];
        let r = render(&ms, "/MEMORY.md");
        let (bytes, rec) = &r.files["glossary.md"];
        assert!(
            bytes.starts_with("---\nname: glossary\ndescription: \"TLH: short for tallyho\"\ntype: reference\n---\n\n- **TLH**"),
            "{bytes}"
        );
        assert_eq!(rec.memory, "/glossary.md");
        assert!(r.files.contains_key("cargo/lessons.md"));
        assert!(
            !r.files.contains_key("MEMORY.md"),
            "the store's index is MEMORY.md's to hold"
        );
        assert!(
            r.index
                .contains("- [Cargo lessons](cargo/lessons.md) — cargo t needs DATABASE_URL\n"),
            "{}",
            r.index
        );
        assert_eq!(r.index.lines().count(), 3, "{}", r.index);
        // A memory with frontmatter of its own is written as it is.
        let own = "---\nname: deploys\ndescription: how staging deploys go\ntype: project\n---\n\nUse the script.\n";
        let r = render(&[memory("/deploys.md", own)], "/MEMORY.md");
        assert_eq!(r.files["deploys.md"].0, own);
        assert!(
            r.index
                .contains("- [deploys](deploys.md) — how staging deploys go"),
            "{}",
            r.index
        );
    }

    #[test]
    fn the_index_stays_within_claude_codes_limits() {
        let ms: Vec<Memory> = (0..400)
            .map(|i| {
                memory(
                    &format!("/topic-{i:03}.md"),
                    &format!("- {}\n", "word ".repeat(60)),
                )
            })
            .collect();
        let r = render(&ms, "/MEMORY.md");
        assert!(
            r.index.lines().count() <= INDEX_LINES,
            "{}",
            r.index.lines().count()
        );
        assert!(r.index.len() <= INDEX_BYTES, "{}", r.index.len());
        assert!(r.unlisted > 0);
        assert!(r.index.ends_with(&format!(
            "- … and {} more topic files in this folder, not listed here\n",
            r.unlisted
        )));
        assert_eq!(
            r.files.len(),
            400,
            "every memory has its file, listed or not"
        );
    }

    #[test]
    fn edits_new_files_deletions_and_index_lines_are_read_back_and_conflicts_keep_both() {
        let ms = vec![
            memory("/glossary.md", "- **TLH**: short for tallyho\n"),
            memory("/lessons.md", "- run migrations first\n"),
            memory("/old.md", "- something stale\n"),
            memory("/both.md", "- as exported\n"),
        ];
        let r = render(&ms, "/MEMORY.md");
        let (manifest, mut files) = exported(&r);
        // Nothing changed: nothing to read.
        assert!(
            read_back(
                Some(&manifest),
                &files,
                &BTreeMap::new(),
                Some(&r.index),
                &ms
            )
            .is_empty()
        );

        // Claude Code edits a line under the frontmatter, writes a new topic file, deletes
        // one, adds an index line; the store changed /both.md meanwhile and so did the file.
        let g = files["glossary.md"].replace("tallyho", "tallyho, the staging cluster");
        files.insert("glossary.md".into(), g);
        files.insert(
            "deploys.md".into(),
            "---\nname: deploys\n---\nship with make\n".into(),
        );
        files.remove("old.md");
        files.insert(
            "both.md".into(),
            format!("{}- edited in the folder\n", files["both.md"]),
        );
        let mut now = ms.clone();
        now[3] = memory("/both.md", "- changed by a dream\n");
        let index = format!(
            "{}- [deploys](deploys.md) — ship\n- the user prefers short answers\n",
            r.index
        );
        let got = read_back(
            Some(&manifest),
            &files,
            &BTreeMap::new(),
            Some(&index),
            &now,
        );
        assert!(
            got.contains(&ReadBack::Update {
                file: "glossary.md".into(),
                memory: "/glossary.md".into(),
                expected_sha256: now[0].content_sha256.clone(),
                content: "- **TLH**: short for tallyho, the staging cluster\n".into(),
            }),
            "{got:#?}"
        );
        assert!(
            got.contains(&ReadBack::Create {
                file: "deploys.md".into(),
                memory: "/deploys.md".into(),
                content: "---\nname: deploys\n---\nship with make\n".into(),
            }),
            "{got:#?}"
        );
        assert!(
            got.contains(&ReadBack::Delete {
                file: "old.md".into(),
                memory: "/old.md".into(),
                expected_sha256: now[2].content_sha256.clone(),
            }),
            "{got:#?}"
        );
        assert!(
            got.contains(&ReadBack::Conflict {
                file: "both.md".into(),
                memory: "/both.md".into(),
                kept_as: "/both.from-claude-code.md".into(),
                content: "- as exported\n- edited in the folder\n".into(),
            }),
            "{got:#?}"
        );
        assert!(
            got.contains(&ReadBack::IndexLines {
                lines: vec!["- the user prefers short answers".into()]
            }),
            "{got:#?}"
        );
        assert_eq!(got.len(), 5, "{got:#?}");

        // The frontmatter edited too: the whole file is the memory's content, nothing dropped.
        let mut files2 = exported(&r).1;
        files2.insert(
            "lessons.md".into(),
            files2["lessons.md"]
                .replace("type: feedback", "type: project")
                .replace("type: project\n---", "type: user\n---"),
        );
        let got = read_back(Some(&manifest), &files2, &BTreeMap::new(), None, &ms);
        match &got[..] {
            [ReadBack::Update { content, .. }] => {
                assert!(content.starts_with("---\nname: lessons"), "{content}")
            }
            other => panic!("{other:#?}"),
        }

        // A deleted file whose memory a dream changed since: the store's is kept.
        let mut files3 = exported(&r).1;
        files3.remove("both.md");
        let got = read_back(Some(&manifest), &files3, &BTreeMap::new(), None, &now);
        assert_eq!(
            got,
            vec![ReadBack::KeptDeleted {
                file: "both.md".into(),
                memory: "/both.md".into()
            }]
        );
    }

    #[test]
    fn a_folder_never_exported_to_is_taken_in_whole() {
        // Claude Code's own auto memory from before reverie: every file and index line kept.
        let files: BTreeMap<String, String> = [
            ("debugging.md".to_string(), "---\nname: debugging\ndescription: d\ntype: project\n---\n\nlogs are in /var/log/app\n".to_string()),
            ("glossary.md".to_string(), "- TLH: tallyho\n".to_string()),
        ]
        .into();
        let index = "# Memory\n\n- [debugging](debugging.md) — d\n- Always use pnpm\n";
        let ms = vec![memory(
            "/glossary.md",
            "- **TLH**: tallyho, the store's own\n",
        )];
        let got = read_back(None, &files, &BTreeMap::new(), Some(index), &ms);
        assert_eq!(got.len(), 3, "{got:#?}");
        assert!(matches!(&got[0], ReadBack::Create { memory, .. } if memory == "/debugging.md"));
        assert!(
            matches!(&got[1], ReadBack::Conflict { kept_as, .. } if kept_as == "/glossary.from-claude-code.md")
        );
        assert_eq!(
            got[2],
            ReadBack::IndexLines {
                lines: vec!["- Always use pnpm".into()]
            }
        );
        assert_eq!(
            append_notes(
                Some("- first"),
                &["- Always use pnpm".into(), "plain".into()]
            ),
            "- first\n- Always use pnpm\n- plain\n"
        );
    }
}

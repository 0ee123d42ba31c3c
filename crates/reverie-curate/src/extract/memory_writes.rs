//! Memory writes made during a session: the memory tool's `create`, `str_replace` and `insert`
//! (`memory_20250818`), and `Write`/`Edit`/`MultiEdit` of a memory file (under `memories/` or
//! `memory/`, or a `MEMORY.md` or `CLAUDE.md`). Only writes whose result was not an error.
//!
//! Each entry the write added — a list item or paragraph of the written text, by
//! `reverie_core::entry` — becomes a candidate at the written path mapped onto the store
//! (`/memories/deploy.md` → `/deploy.md`), in the entry's section. To know the sections of a
//! partial edit, the memories' content is followed from the store through every session in
//! order: the memory tool's full `view` results, creations, replacements, insertions, deletions
//! and renames. Where the content is unknown, the edit's own text is read alone.

use std::collections::{BTreeMap, BTreeSet};

use reverie_core::curation::EntryKind;
use reverie_core::entry::{Document, EntryRef};
use reverie_core::memtool::Command;
use reverie_core::session::EventKind;
use serde_json::Value;

use super::junk::{MAX_LINES, is_junk_sentence, is_rejection};
use super::util::{Ctx, is_memory_file, memory_path, strip_tags};
use crate::candidate::Candidate;
use crate::input::MemoryText;

/// What is known of the memories' content, by store path.
#[derive(Debug, Default)]
pub(crate) struct Files {
    content: BTreeMap<String, String>,
}

impl Files {
    pub fn new(memories: &[MemoryText]) -> Files {
        Files {
            content: memories
                .iter()
                .map(|m| (m.path.clone(), m.content.clone()))
                .collect(),
        }
    }
}

/// Whether a tool is the memory tool.
pub(crate) fn is_memory_tool(name: &str) -> bool {
    name == "memory" || name.ends_with("__memory") || name == "Memory"
}

/// One write, as what it leaves.
enum Write {
    /// The whole content (create, Write).
    Whole(String),
    /// Replacements of `old` by `new`, in order (`all`: every occurrence).
    Replace(Vec<(String, String, bool)>),
    /// `text` inserted after line `line`.
    Insert(usize, String),
}

/// Candidates of the session's memory writes; `files` follows the memories' content.
pub(crate) fn extract(ctx: &Ctx, files: &mut Files, terms: &[&str]) -> Vec<Candidate> {
    let events = ctx.events();
    let mut out = Vec::new();
    for (i, e) in events.iter().enumerate() {
        if e.kind != EventKind::ToolUse {
            continue;
        }
        let (Some(tool), Some(input)) = (e.tool_name.as_deref(), e.tool_input.as_ref()) else {
            continue;
        };
        let Some(r) = ctx.result_of(i) else { continue };
        let result = &events[r];
        let said = result.text.as_deref().unwrap_or("");
        if result.is_error || is_rejection(said) {
            continue;
        }
        let (path, write, how) = if is_memory_tool(tool) {
            let Ok(cmd) = Command::from_value(input.clone()) else {
                continue;
            };
            match cmd {
                Command::View {
                    path,
                    view_range: None,
                } => {
                    if let (Some(p), Some(content)) = (memory_path(&path), viewed_content(said)) {
                        files.content.insert(p, content);
                    }
                    continue;
                }
                Command::View { .. } => continue,
                Command::Create { path, file_text } => (path, Write::Whole(file_text), "memory"),
                Command::StrReplace {
                    path,
                    old_str,
                    new_str,
                } => (
                    path,
                    Write::Replace(vec![(old_str, new_str, false)]),
                    "memory",
                ),
                Command::Insert {
                    path,
                    insert_line,
                    insert_text,
                } => (
                    path,
                    Write::Insert(usize::try_from(insert_line).unwrap_or(0), insert_text),
                    "memory",
                ),
                Command::Delete { path } => {
                    if let Some(p) = memory_path(&path) {
                        files.content.remove(&p);
                    }
                    continue;
                }
                Command::Rename { old_path, new_path } => {
                    if let (Some(a), Some(b)) = (memory_path(&old_path), memory_path(&new_path))
                        && let Some(c) = files.content.remove(&a)
                    {
                        files.content.insert(b, c);
                    }
                    continue;
                }
            }
        } else if matches!(tool, "Read" | "read_file") {
            let path = input
                .get("file_path")
                .or(input.get("path"))
                .and_then(Value::as_str);
            let partial = input.get("offset").is_some() || input.get("limit").is_some();
            if let Some(p) = path
                .filter(|p| is_memory_file(p) && !partial)
                .and_then(memory_path)
                && let Some(content) = read_content(&strip_tags(said))
            {
                files.content.insert(p, content);
            }
            continue;
        } else if let Some((path, write)) = file_write(tool, input) {
            (path, write, "file")
        } else {
            continue;
        };
        let Some(store_path) = memory_path(&path).filter(|p| p != "/") else {
            continue;
        };
        let (added, removed) = apply(files, &store_path, write);
        let reason = match how {
            "memory" => "written through the memory tool".to_string(),
            _ => format!("written to a memory file with {tool}"),
        };
        for entry in added {
            let body = entry.body;
            if body.trim().is_empty()
                || is_junk_sentence(&body, terms)
                || body.lines().count() > MAX_LINES
                || is_index_line(&body)
            {
                continue;
            }
            // What this entry replaced: the entry removed from its section by the same write
            // (when one was), or the one of them it most resembles.
            let gone: Vec<&EntryRef> = removed
                .iter()
                .filter(|r| r.section == entry.section)
                .collect();
            let replaces: Vec<String> = match gone.as_slice() {
                [one] => vec![one.body.clone()],
                many => many
                    .iter()
                    .map(|r| (crate::text::jaccard(&r.body, &body), r))
                    .filter(|(sim, _)| *sim >= crate::text::SAME_SUBJECT)
                    .max_by(|a, b| a.0.total_cmp(&b.0))
                    .map(|(_, r)| r.body.clone())
                    .into_iter()
                    .collect(),
            };
            let mut c = ctx.candidate(
                EntryKind::MemoryWrite,
                body.clone(),
                &store_path,
                entry.section,
                &[(i, body)],
                reason.clone(),
            );
            c.replaces = replaces;
            out.push(c);
        }
    }
    out
}

/// A `Write`, `Edit` or `MultiEdit` of a memory file.
fn file_write(tool: &str, input: &Value) -> Option<(String, Write)> {
    let s = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
    let path = s(input, "file_path").or_else(|| s(input, "path"))?;
    if !is_memory_file(&path) {
        return None;
    }
    let write = match tool {
        "Write" | "write_file" => Write::Whole(s(input, "content")?),
        "Edit" | "edit_file" => Write::Replace(vec![(
            s(input, "old_string")?,
            s(input, "new_string")?,
            input
                .get("replace_all")
                .and_then(Value::as_bool)
                .unwrap_or(false),
        )]),
        "MultiEdit" => Write::Replace(
            input
                .get("edits")?
                .as_array()?
                .iter()
                .filter_map(|e| {
                    Some((
                        s(e, "old_string")?,
                        s(e, "new_string")?,
                        e.get("replace_all")
                            .and_then(Value::as_bool)
                            .unwrap_or(false),
                    ))
                })
                .collect(),
        ),
        _ => return None,
    };
    Some((path, write))
}

/// The content a memory-tool `view` showed (`Here's the content of … with line numbers:`).
fn viewed_content(said: &str) -> Option<String> {
    let (head, rest) = said.split_once('\n')?;
    if !head.starts_with("Here's the content of ") {
        return None;
    }
    let mut lines = Vec::new();
    for line in rest.split('\n') {
        let (num, text) = line.split_once('\t')?;
        if num.trim().parse::<u64>().is_err() {
            return None;
        }
        lines.push(text);
    }
    Some(lines.join("\n"))
}

/// The content a `Read` showed (`cat -n` style: `     1→text` or `     1\ttext`).
fn read_content(said: &str) -> Option<String> {
    let said = said.trim_end();
    if said.is_empty() {
        return None;
    }
    let mut lines = Vec::new();
    for line in said.split('\n') {
        let (num, text) = line.split_once('→').or_else(|| line.split_once('\t'))?;
        if num.trim().parse::<u64>().is_err() {
            return None;
        }
        lines.push(text);
    }
    let mut content = lines.join("\n");
    content.push('\n');
    Some(content)
}

/// Applies `write` to the known content of `path`, returning the entries it added (those of
/// the new content not in the old, by section and text) and those it removed.
fn apply(files: &mut Files, path: &str, write: Write) -> (Vec<EntryRef>, Vec<EntryRef>) {
    let before = files.content.get(path).cloned();
    let after: Option<String> = match (&write, &before) {
        (Write::Whole(text), _) => Some(text.clone()),
        (Write::Replace(edits), Some(old)) => {
            let mut content = old.clone();
            let mut ok = true;
            for (a, b, all) in edits {
                if a.is_empty() || !content.contains(a.as_str()) {
                    ok = false;
                    break;
                }
                content = if *all {
                    content.replace(a.as_str(), b)
                } else {
                    content.replacen(a.as_str(), b, 1)
                };
            }
            ok.then_some(content)
        }
        (Write::Insert(line, text), Some(old)) => {
            let mut lines: Vec<&str> = old.split('\n').collect();
            if lines.last() == Some(&"") {
                lines.pop();
            }
            (*line <= lines.len()).then(|| {
                let text = text.trim_end_matches('\n');
                lines.insert(*line, text);
                let mut s = lines.join("\n");
                s.push('\n');
                s
            })
        }
        _ => None,
    };
    match after {
        Some(after) => {
            let old = before.as_deref().map(entry_keys).unwrap_or_default();
            let new = entry_keys(&after);
            files.content.insert(path.to_string(), after.clone());
            let added = Document::parse(&after)
                .entries()
                .into_iter()
                .filter(|e| !old.contains(&(e.section.clone(), e.body.clone())))
                .collect();
            let removed = before
                .as_deref()
                .map(|b| {
                    Document::parse(b)
                        .entries()
                        .into_iter()
                        .filter(|e| !new.contains(&(e.section.clone(), e.body.clone())))
                        .collect()
                })
                .unwrap_or_default();
            (added, removed)
        }
        None => {
            // The content is unknown: the edit's own text, read alone.
            files.content.remove(path);
            let (old, new): (String, String) = match write {
                Write::Whole(t) => (String::new(), t),
                Write::Replace(edits) => edits.into_iter().fold(
                    (String::new(), String::new()),
                    |(mut o, mut n), (a, b, _)| {
                        o.push_str(&a);
                        o.push_str("\n\n");
                        n.push_str(&b);
                        n.push_str("\n\n");
                        (o, n)
                    },
                ),
                Write::Insert(_, t) => (String::new(), t),
            };
            let old: BTreeSet<String> = Document::parse(&old)
                .entries()
                .into_iter()
                .map(|e| e.body)
                .collect();
            let added = Document::parse(&new)
                .entries()
                .into_iter()
                .filter(|e| !old.contains(&e.body))
                .collect();
            (added, Vec::new())
        }
    }
}

fn entry_keys(content: &str) -> BTreeSet<(Vec<String>, String)> {
    Document::parse(content)
        .entries()
        .into_iter()
        .map(|e| (e.section, e.body))
        .collect()
}

/// A line of a memory index: a link to another memory file, which the dream keeps itself.
fn is_index_line(body: &str) -> bool {
    let b = body.trim();
    b.starts_with('[')
        && b.split_once("](")
            .is_some_and(|(_, rest)| rest.split(')').next().is_some_and(|t| t.ends_with(".md")))
}

/// The store paths the session viewed: memory-tool `view`s of a file and `Read`s of memory
/// files.
pub(crate) fn viewed(events: &[reverie_core::session::Event]) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for e in events.iter().filter(|e| e.kind == EventKind::ToolUse) {
        let (Some(tool), Some(input)) = (e.tool_name.as_deref(), e.tool_input.as_ref()) else {
            continue;
        };
        let path = if is_memory_tool(tool) {
            match input.get("command").and_then(Value::as_str) {
                Some("view") => input.get("path").and_then(Value::as_str),
                _ => None,
            }
        } else if tool == "Read" || tool == "read_file" {
            input
                .get("file_path")
                .or(input.get("path"))
                .and_then(Value::as_str)
                .filter(|p| is_memory_file(p))
        } else {
            None
        };
        if let Some(p) = path.and_then(memory_path).filter(|p| p != "/") {
            out.insert(p);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Known content, a write, and the entries added as (section, text).
    type WriteCase = (
        Option<&'static str>,
        Write,
        Vec<(&'static [&'static str], &'static str)>,
    );
    /// Events, and the candidates as (path, section, text).
    type SessionCase = (
        Vec<reverie_core::session::Event>,
        Vec<(&'static str, &'static [&'static str], &'static str)>,
    );

    #[test]
    fn views_give_the_content() {
        let said = "Here's the content of /memories/a.md with line numbers:\n     1\t# A\n     2\t\n     3\t- one";
        assert_eq!(viewed_content(said).as_deref(), Some("# A\n\n- one"));
        assert_eq!(viewed_content("Here're the files and directories"), None);
        assert_eq!(
            read_content("     1→# A\n     2→- one").as_deref(),
            Some("# A\n- one\n")
        );
        assert_eq!(read_content("File does not exist."), None);
    }

    #[test]
    fn writes_add_their_new_entries() {
        // (known content, write, entries added as (section, body))
        let doc = "# Deploy\n\n- one\n- two\n";
        let cases: Vec<WriteCase> = vec![
            (
                None,
                Write::Whole(doc.into()),
                vec![(&["Deploy"], "one"), (&["Deploy"], "two")],
            ),
            (
                Some(doc),
                Write::Replace(vec![("- two".into(), "- two, revised".into(), false)]),
                vec![(&["Deploy"], "two, revised")],
            ),
            (
                None,
                Write::Replace(vec![("- two".into(), "- two, revised".into(), false)]),
                vec![(&[], "two, revised")],
            ),
            (
                Some(doc),
                Write::Insert(3, "- three".into()),
                vec![(&["Deploy"], "three")],
            ),
            (
                Some(doc),
                Write::Replace(vec![("- missing".into(), "- new".into(), false)]),
                vec![(&[], "new")],
            ),
        ];
        for (known, write, want) in cases {
            let mut files = Files::default();
            if let Some(k) = known {
                files.content.insert("/d.md".into(), k.into());
            }
            let got: Vec<(Vec<String>, String)> = apply(&mut files, "/d.md", write)
                .0
                .into_iter()
                .map(|e| (e.section, e.body))
                .collect();
            let want: Vec<(Vec<String>, String)> = want
                .into_iter()
                .map(|(s, b)| (s.iter().map(|x| x.to_string()).collect(), b.to_string()))
                .collect();
            assert_eq!(got, want);
        }
    }

    #[test]
    fn a_replacement_names_what_it_replaced() {
        let mut files = Files::default();
        files
            .content
            .insert("/d.md".into(), "# Deploy\n\n- db on 5432\n- two\n".into());
        let (added, removed) = apply(
            &mut files,
            "/d.md",
            Write::Replace(vec![("- db on 5432".into(), "- db on 6543".into(), false)]),
        );
        assert_eq!(
            added.iter().map(|e| e.body.as_str()).collect::<Vec<_>>(),
            ["db on 6543"]
        );
        assert_eq!(
            removed.iter().map(|e| e.body.as_str()).collect::<Vec<_>>(),
            ["db on 5432"]
        );
    }

    #[test]
    fn index_lines_are_not_entries() {
        assert!(is_index_line("[Deploy notes](deploy.md) — how to ship"));
        assert!(!is_index_line("Deploy with `./deploy.sh`"));
    }

    #[test]
    fn sessions_memory_writes_become_candidates() {
        use super::super::util::build::*;
        use serde_json::json;
        let mem = |id: &str, input: serde_json::Value| call(id, "memory", input);
        let file = "# Deploy\n\n- Deploy from `main`.\n- Staging DB: `db.internal:5432`.\n";
        // (events, the candidates as (path, section, text))
        let cases: Vec<SessionCase> = vec![
            (
                vec![
                    mem(
                        "1",
                        json!({"command": "create", "path": "/memories/deploy.md", "file_text": file}),
                    ),
                    result(
                        "1",
                        "File created successfully at: /memories/deploy.md",
                        false,
                    ),
                ],
                vec![
                    ("/deploy.md", &["Deploy"], "Deploy from `main`."),
                    ("/deploy.md", &["Deploy"], "Staging DB: `db.internal:5432`."),
                ],
            ),
            // an error writes nothing
            (
                vec![
                    mem(
                        "1",
                        json!({"command": "create", "path": "/memories/deploy.md", "file_text": file}),
                    ),
                    result("1", "Error: File /memories/deploy.md already exists", true),
                ],
                vec![],
            ),
            // an edit after a view: its entry, in the section the view showed
            (
                vec![
                    mem(
                        "1",
                        json!({"command": "view", "path": "/memories/deploy.md"}),
                    ),
                    result(
                        "1",
                        "Here's the content of /memories/deploy.md with line numbers:\n     1\t# Deploy\n     2\t\n     3\t- Deploy from `main`.\n     4\t- Staging DB: `db.internal:5432`.\n     5\t",
                        false,
                    ),
                    mem(
                        "2",
                        json!({"command": "str_replace", "path": "/memories/deploy.md", "old_str": "`db.internal:5432`", "new_str": "`db.internal:6543`"}),
                    ),
                    result("2", "The memory file has been edited.", false),
                ],
                vec![("/deploy.md", &["Deploy"], "Staging DB: `db.internal:6543`.")],
            ),
            // Claude Code's own memory files, through Write
            (
                vec![
                    call(
                        "1",
                        "Write",
                        json!({"file_path": "/home/u/.claude/projects/-app/memory/MEMORY.md", "content": "- [Deploy](deploy.md) — how to ship\n- The test DB listens on 5433.\n- ok\n"}),
                    ),
                    result("1", "File created successfully", false),
                ],
                vec![("/MEMORY.md", &[], "The test DB listens on 5433.")],
            ),
            // a secret never goes through
            (
                vec![
                    mem(
                        "1",
                        json!({"command": "create", "path": "/memories/k.md", "file_text": "- Key: [REDACTED:stripe]\n"}),
                    ),
                    result("1", "File created successfully at: /memories/k.md", false),
                ],
                vec![],
            ),
            // other files are not memory
            (
                vec![
                    call(
                        "1",
                        "Write",
                        json!({"file_path": "/home/dev/app/README.md", "content": "- Run it with `make`.\n"}),
                    ),
                    result("1", "File created successfully", false),
                ],
                vec![],
            ),
        ];
        for (events, want) in cases {
            let s = session("s", events);
            let mut files = Files::default();
            let got: Vec<(String, Vec<String>, String)> = extract(&Ctx::new(&s), &mut files, &[])
                .into_iter()
                .map(|c| {
                    assert_eq!(c.kind, EntryKind::MemoryWrite);
                    (c.path, c.section, c.text)
                })
                .collect();
            let want: Vec<(String, Vec<String>, String)> = want
                .into_iter()
                .map(|(p, s, t)| {
                    (
                        p.to_string(),
                        s.iter().map(|x| x.to_string()).collect(),
                        t.to_string(),
                    )
                })
                .collect();
            assert_eq!(got, want);
        }
    }

    #[test]
    fn viewed_paths_are_store_paths() {
        use super::super::util::build::*;
        use serde_json::json;
        let events = vec![
            call(
                "1",
                "memory",
                json!({"command": "view", "path": "/memories"}),
            ),
            call(
                "2",
                "memory",
                json!({"command": "view", "path": "/memories/deploy.md"}),
            ),
            call(
                "3",
                "Read",
                json!({"file_path": "/home/u/.claude/projects/-app/memory/MEMORY.md"}),
            ),
            call(
                "4",
                "Read",
                json!({"file_path": "/home/dev/app/src/main.rs"}),
            ),
            call(
                "5",
                "memory",
                json!({"command": "create", "path": "/memories/new.md", "file_text": "x"}),
            ),
        ];
        let got: Vec<String> = viewed(&events).into_iter().collect();
        assert_eq!(got, ["/MEMORY.md", "/deploy.md"]);
    }
}

//! The six commands, following `BetaLocalFilesystemMemoryTool` step by step: the same checks in
//! the same order, the same side effects before a failure (a parent directory made by `create`
//! stays when the file cannot be), the same strings.
//!
//! reverie refuses, with an error of its own and no change at all, only what the filesystem
//! would accept but a store cannot hold: a memory path over the contract's limits, content over
//! 102,400 bytes, or a store already at its memory limit.

use super::Command;
use super::python::{self, Errno, numbered};
use super::vfs::{Components, Kind, Vfs};
use crate::content::MAX_CONTENT_BYTES;

/// How one attempt ended.
pub(crate) enum Fail {
    /// A `ToolError` of the reference.
    Tool(String),
    /// An `OSError` escaping the reference.
    Os(Errno),
    /// `ValueError('embedded null byte')`.
    Nul,
    /// reverie's own refusal: nothing is written.
    Refused(String),
    /// The command needs this memory's content before it can go on.
    NeedContent(String),
}

impl From<Errno> for Fail {
    fn from(e: Errno) -> Self {
        Fail::Os(e)
    }
}

pub(crate) type Res<T> = Result<T, Fail>;

/// `_validate_path`: the `/memories` prefix, then the lexical resolution of `realpath` (there
/// are no symlinks), then the escape check.
pub(crate) fn resolve(path: &str) -> Res<Components> {
    let Some(rest) = path.strip_prefix("/memories") else {
        return Err(Fail::Tool(format!(
            "Path must start with /memories, got: {path}"
        )));
    };
    let relative = rest.trim_start_matches('/');
    if relative.contains('\0') {
        return Err(Fail::Nul);
    }
    // Components below the base folder that holds `memories`; climbing above the base can never
    // come back into the root, because the base's own name is unknown to the caller.
    let mut stack: Vec<&str> = vec!["memories"];
    let mut above_base = false;
    for comp in relative.split('/') {
        match comp {
            "" | "." => {}
            ".." => {
                if stack.pop().is_none() {
                    above_base = true;
                }
            }
            name => stack.push(name),
        }
    }
    if above_base || stack.first() != Some(&"memories") {
        return Err(Fail::Tool(format!(
            "Path {path} would escape /memories directory"
        )));
    }
    Ok(stack[1..].iter().map(|s| s.to_string()).collect())
}

/// `Path.exists()`: errors other than "no such file" and "not a directory" propagate.
fn exists(vfs: &Vfs, p: &[String]) -> Res<bool> {
    match vfs.stat(p) {
        Ok(_) => Ok(true),
        Err(e) if e.is_ignored_by_path_tests() => Ok(false),
        Err(e) => Err(e.into()),
    }
}

fn is_kind(vfs: &Vfs, p: &[String], kind: Kind) -> Res<bool> {
    match vfs.stat(p) {
        Ok(k) => Ok(k == kind),
        Err(e) if e.is_ignored_by_path_tests() => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// reverie's check that a node the command made or moved can be stored.
fn check_storable(vfs: &Vfs, p: &[String], shown: &str) -> Res<()> {
    let store_path = vfs.store_path(p);
    crate::path::validate_path(&store_path)
        .map_err(|e| Fail::Refused(format!("The path {shown} cannot be stored: {e}")))
}

fn check_size(content: &str, shown: &str) -> Res<()> {
    if content.len() > MAX_CONTENT_BYTES {
        return Err(Fail::Refused(format!(
            "The file {shown} would be {} bytes; a memory holds at most {MAX_CONTENT_BYTES} bytes",
            content.len()
        )));
    }
    Ok(())
}

/// `_secure_mkdir`: make each missing directory from the top down.
fn secure_mkdir(vfs: &mut Vfs, p: &[String], shown: &str) -> Res<()> {
    let mut missing: Vec<Components> = Vec::new();
    let mut current = p.to_vec();
    while !exists(vfs, &current)? {
        missing.push(current.clone());
        if current.is_empty() {
            break;
        }
        current.pop();
    }
    for dir in missing.iter().rev() {
        match vfs.mkdir(dir) {
            Ok(()) => check_storable(vfs, dir, shown)?,
            Err(Errno::Exist) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

fn content_of(vfs: &Vfs, p: &[String]) -> Res<String> {
    let file = vfs.file(p).expect("checked to be a file");
    match &file.content {
        Some(c) => Ok(c.clone()),
        None => Err(Fail::NeedContent(
            file.memory_id.clone().expect("unloaded files are stored"),
        )),
    }
}

fn view(vfs: &Vfs, path: &str, view_range: Option<&[i64]>) -> Res<String> {
    let full = resolve(path)?;
    let kind = match vfs.stat(&full) {
        Ok(k) => k,
        Err(Errno::NoEnt | Errno::NotDir) => {
            return Err(Fail::Tool(format!(
                "The path {path} does not exist. Please provide a valid path."
            )));
        }
        Err(e) => return Err(e.into()),
    };
    match kind {
        Kind::Dir => {
            let mut items: Vec<(String, String)> = Vec::new();
            collect_items(vfs, &full, "", 1, &mut items);
            let mut out = format!(
                "Here're the files and directories up to 2 levels deep in {path}, excluding hidden items:\n"
            );
            out.push_str(&format!(
                "{}\t{path}",
                python::format_file_size(super::vfs::DIR_SIZE)
            ));
            for (size, rel) in items {
                out.push_str(&format!("\n{size}\t{path}/{rel}"));
            }
            Ok(out)
        }
        Kind::File => {
            let content = content_of(vfs, &full)?;
            let lines: Vec<&str> = content.split('\n').collect();
            if lines.len() > 999_999 {
                return Err(Fail::Tool(format!(
                    "File {path} exceeds maximum line limit of 999,999 lines."
                )));
            }
            let (mut shown, mut start_num): (&[&str], usize) = (&lines, 1);
            if let Some(&[first, last]) = view_range {
                let start = (first.max(1) - 1) as usize;
                let end = if last == -1 { lines.len() as i64 } else { last };
                let (s, e) = python::slice_bounds(lines.len(), start, end);
                shown = &lines[s..e];
                start_num = start + 1;
            }
            let numbered_lines: Vec<String> = shown
                .iter()
                .enumerate()
                .map(|(i, l)| numbered(i + start_num, l))
                .collect();
            Ok(format!(
                "Here's the content of {path} with line numbers:\n{}",
                numbered_lines.join("\n")
            ))
        }
    }
}

fn collect_items(
    vfs: &Vfs,
    dir: &[String],
    rel: &str,
    depth: usize,
    items: &mut Vec<(String, String)>,
) {
    if depth > 2 {
        return;
    }
    for (name, kind, size) in vfs.children(dir) {
        if name.starts_with('.') {
            continue;
        }
        let item_rel = if rel.is_empty() {
            name.clone()
        } else {
            format!("{rel}/{name}")
        };
        match kind {
            Kind::Dir => {
                items.push((python::format_file_size(size), format!("{item_rel}/")));
                if depth < 2 {
                    let mut child = dir.to_vec();
                    child.push(name);
                    collect_items(vfs, &child, &item_rel, depth + 1, items);
                }
            }
            Kind::File => items.push((python::format_file_size(size), item_rel)),
        }
    }
}

fn create(vfs: &mut Vfs, path: &str, file_text: &str) -> Res<String> {
    let full = resolve(path)?;
    if !full.is_empty() {
        secure_mkdir(vfs, &full[..full.len() - 1], path)?;
    }
    match vfs.create_file(&full, file_text.to_string()) {
        Ok(()) => {}
        Err(Errno::Exist) => return Err(Fail::Tool(format!("File {path} already exists"))),
        Err(e) => return Err(e.into()),
    }
    check_storable(vfs, &full, path)?;
    check_size(file_text, path)?;
    if vfs.file_count() as i64 > vfs.max_memories {
        return Err(Fail::Refused(format!(
            "The file {path} cannot be created: the memory store is full ({} memories)",
            vfs.max_memories
        )));
    }
    Ok(format!("File created successfully at: {path}"))
}

/// The checks `str_replace` and `insert` share, returning the file's content.
fn editable(vfs: &Vfs, path: &str) -> Res<(Components, String)> {
    let full = resolve(path)?;
    if !exists(vfs, &full)? {
        return Err(Fail::Tool(format!(
            "The path {path} does not exist. Please provide a valid path."
        )));
    }
    if !is_kind(vfs, &full, Kind::File)? {
        return Err(Fail::Tool(format!("The path {path} is not a file.")));
    }
    let content = content_of(vfs, &full)?;
    Ok((full, content))
}

fn str_replace(vfs: &mut Vfs, path: &str, old_str: &str, new_str: &str) -> Res<String> {
    let (full, content) = editable(vfs, path)?;
    match python::count(&content, old_str) {
        0 => {
            return Err(Fail::Tool(format!(
                "No replacement was performed, old_str `{old_str}` did not appear verbatim in {path}."
            )));
        }
        1 => {}
        _ => {
            let positions = python::overlapping_positions(&content, old_str);
            let lines: Vec<String> = python::lines_of(&content, &positions)
                .into_iter()
                .map(|n| n.to_string())
                .collect();
            return Err(Fail::Tool(format!(
                "No replacement was performed. Multiple occurrences of old_str `{old_str}` in lines: {}. Please ensure it is unique",
                lines.join(", ")
            )));
        }
    }
    let pos = content.find(old_str).expect("counted once");
    let changed_line_index = python::line_of(&content, pos) - 1;
    let new_content = content.replacen(old_str, new_str, 1);
    check_size(&new_content, path)?;
    vfs.write_file(&full, new_content.clone());
    let new_lines: Vec<&str> = new_content.split('\n').collect();
    let start = changed_line_index.saturating_sub(2);
    let end = new_lines.len().min(changed_line_index + 3);
    let snippet: Vec<String> = (start + 1..=end)
        .map(|n| numbered(n, new_lines[n - 1]))
        .collect();
    Ok(format!(
        "The memory file has been edited. Here is the snippet showing the change (with line numbers):\n{}",
        snippet.join("\n")
    ))
}

fn insert(vfs: &mut Vfs, path: &str, insert_line: i64, insert_text: &str) -> Res<String> {
    let (full, content) = editable(vfs, path)?;
    let mut lines: Vec<&str> = content.split('\n').collect();
    if lines.last() == Some(&"") {
        lines.pop();
    }
    if insert_line < 0 || insert_line > lines.len() as i64 {
        return Err(Fail::Tool(format!(
            "Invalid `insert_line` parameter: {insert_line}. It should be within the range [0, {}].",
            lines.len()
        )));
    }
    lines.insert(insert_line as usize, python::rstrip_newlines(insert_text));
    let mut new_content = lines.join("\n");
    if !new_content.ends_with('\n') {
        new_content.push('\n');
    }
    check_size(&new_content, path)?;
    vfs.write_file(&full, new_content);
    Ok(format!("The file {path} has been edited."))
}

fn delete(vfs: &mut Vfs, path: &str) -> Res<String> {
    let full = resolve(path)?;
    if full.is_empty() {
        return Err(Fail::Tool(
            "Cannot delete the /memories directory itself".to_string(),
        ));
    }
    if is_kind(vfs, &full, Kind::File)? {
        match vfs.unlink(&full) {
            Ok(()) => {}
            Err(Errno::NoEnt) => return Err(Fail::Tool(format!("The path {path} does not exist"))),
            Err(e) => return Err(e.into()),
        }
    } else if is_kind(vfs, &full, Kind::Dir)? {
        vfs.rmtree(&full);
    } else {
        return Err(Fail::Tool(format!("The path {path} does not exist")));
    }
    Ok(format!("Successfully deleted {path}"))
}

fn rename(vfs: &mut Vfs, old_path: &str, new_path: &str) -> Res<String> {
    let old = resolve(old_path)?;
    let new = resolve(new_path)?;
    if old.is_empty() {
        return Err(Fail::Tool(
            "Cannot rename the /memories directory itself".to_string(),
        ));
    }
    if exists(vfs, &new)? {
        return Err(Fail::Tool(format!(
            "The destination {new_path} already exists"
        )));
    }
    secure_mkdir(vfs, &new[..new.len() - 1], new_path)?;
    match vfs.rename(&old, &new) {
        Ok(()) => {}
        Err(Errno::NoEnt) => return Err(Fail::Tool(format!("The path {old_path} does not exist"))),
        Err(e) => return Err(e.into()),
    }
    let mut moved = vec![new.clone()];
    moved.extend(vfs.descendants(&new));
    for p in &moved {
        check_storable(vfs, p, new_path)?;
    }
    Ok(format!("Successfully renamed {old_path} to {new_path}"))
}

/// Runs one command on `vfs`.
pub(crate) fn run(vfs: &mut Vfs, command: &Command) -> Res<String> {
    match command {
        Command::View { path, view_range } => view(vfs, path, view_range.as_deref()),
        Command::Create { path, file_text } => create(vfs, path, file_text),
        Command::StrReplace {
            path,
            old_str,
            new_str,
        } => str_replace(vfs, path, old_str, new_str),
        Command::Insert {
            path,
            insert_line,
            insert_text,
        } => insert(vfs, path, *insert_line, insert_text),
        Command::Delete { path } => delete(vfs, path),
        Command::Rename { old_path, new_path } => rename(vfs, old_path, new_path),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn comps(v: &[&str]) -> Components {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn resolution_is_lexical_and_confined() {
        let ok = |p: &str| resolve(p).ok().unwrap_or_else(|| panic!("{p} refused"));
        assert_eq!(ok("/memories"), comps(&[]));
        assert_eq!(ok("/memories/"), comps(&[]));
        assert_eq!(ok("/memoriesfoo"), comps(&["foo"]));
        assert_eq!(ok("/memories//a/./b/"), comps(&["a", "b"]));
        assert_eq!(ok("/memories/a/../b"), comps(&["b"]));
        assert_eq!(ok("/memories/../memories/x"), comps(&["x"]));
        assert_eq!(ok("/memories/%2e%2e/x"), comps(&["%2e%2e", "x"]));
        for escaping in [
            "/memories/..",
            "/memories/../memories2/x",
            "/memories/../../memories/x",
        ] {
            assert!(
                matches!(resolve(escaping), Err(Fail::Tool(m)) if m.contains("would escape")),
                "{escaping}"
            );
        }
        assert!(
            matches!(resolve("/x"), Err(Fail::Tool(m)) if m == "Path must start with /memories, got: /x")
        );
        assert!(matches!(resolve("/memories/a\0"), Err(Fail::Nul)));
    }
}

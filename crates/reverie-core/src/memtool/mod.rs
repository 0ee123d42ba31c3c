//! The `memory_20250818` tool executed against a memory store.
//!
//! Paths under `/memories` map onto memory paths (`/memories/notes/a.md` is the memory
//! `/notes/a.md`). Results are byte-identical to the SDK's `BetaLocalFilesystemMemoryTool` for
//! the same command sequence — success strings, `ToolError` strings and the `repr` of the
//! exceptions it lets escape — which a differential test checks against the SDK itself.
//!
//! The module is pure: [`execute`] runs a command on a [`Vfs`] built from a [`Snapshot`] of the
//! store and returns the tool's answer and the [`Effects`] to write back. The storage layer
//! takes the snapshot and applies the effects inside one transaction.

mod exec;
mod names;
mod python;
mod vfs;

use serde::{Deserialize, Serialize};

pub use names::{decode_segment, encode_segment};
pub use python::format_file_size;
pub use vfs::{Effects, Snapshot, SnapshotFile, Vfs};

use crate::error::{Error, Result};

/// One command of the memory tool, as the model sends it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "snake_case")]
pub enum Command {
    View {
        path: String,
        #[serde(default)]
        view_range: Option<Vec<i64>>,
    },
    Create {
        path: String,
        file_text: String,
    },
    StrReplace {
        path: String,
        old_str: String,
        new_str: String,
    },
    Insert {
        path: String,
        insert_line: i64,
        insert_text: String,
    },
    Delete {
        path: String,
    },
    Rename {
        old_path: String,
        new_path: String,
    },
}

impl Command {
    /// Parses a command from its JSON input, naming what is wrong with it.
    pub fn parse(json: &str) -> Result<Self> {
        if json
            .trim_start_matches([' ', '\t', '\n', '\r'])
            .starts_with('[')
        {
            return Err(not_an_object());
        }
        serde_json::from_str(json).map_err(|e| Error::invalid("memory tool command", e.to_string()))
    }

    /// Parses a command from an already-decoded JSON value.
    pub fn from_value(value: serde_json::Value) -> Result<Self> {
        if value.is_array() {
            return Err(not_an_object());
        }
        serde_json::from_value(value)
            .map_err(|e| Error::invalid("memory tool command", e.to_string()))
    }

    /// True for commands that never write.
    pub fn is_read_only(&self) -> bool {
        matches!(self, Command::View { .. })
    }
}

/// serde reads an internally tagged enum from an array too (`["delete", "/memories/a"]`, the
/// fields in order); the tool's input is an object, as the SDK's models are.
fn not_an_object() -> Error {
    Error::invalid("memory tool command", "must be a JSON object, not an array")
}

/// The tool's answer: the string the model reads, and whether it is an error.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolResult {
    pub is_error: bool,
    pub content: String,
}

/// The memory path of the one file a command reads or edits in place — `view`, `str_replace`
/// or `insert` — with the command's path resolved as the reference resolves it and each name in
/// its canonical stored form. `None` for other commands (they create, delete or move, and may
/// touch directories), for the root, and for a path the reference refuses.
///
/// Such a command's answer and effects depend only on the file it names, provided the tree
/// shows that file there: no memory at a proper prefix of the path (it would be a file where a
/// directory must be) and no tool-made directory at the path itself. Everything else that could
/// claim the same tool path is stored non-canonically and loses to it (see [`Vfs::new`]). The
/// storage layer checks those two conditions and then runs the command on a snapshot of that
/// one file instead of the whole store.
pub fn single_file_path(command: &Command) -> Option<String> {
    let path = match command {
        Command::View { path, .. }
        | Command::StrReplace { path, .. }
        | Command::Insert { path, .. } => path,
        _ => return None,
    };
    let names = exec::resolve(path).ok()?;
    if names.is_empty() {
        return None;
    }
    let stored: Vec<String> = names.iter().map(|n| encode_segment(n)).collect();
    let path = format!("/{}", stored.join("/"));
    crate::path::validate_path(&path).ok()?;
    Some(path)
}

/// A `create` of a new file or a `delete` of a file, when a few point reads around its path
/// can stand in for the whole tree (see [`path_probe`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathProbe {
    /// The memory path the command creates or deletes.
    pub path: String,
    /// Its proper prefixes, shortest first: the directories on the way.
    pub parents: Vec<String>,
    delete: bool,
}

/// What the store holds around a probed path, read with point reads.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Around {
    /// The memory at the path.
    pub at_path: Option<SnapshotFile>,
    /// Whether a memory sits at one of the parents (a file where a directory must be).
    pub at_parent: bool,
    /// Whether a memory sits below the path.
    pub below: bool,
    /// For a delete: another memory below the path's parent, if there is one.
    pub neighbour: Option<SnapshotFile>,
    /// The tool-made directories, each with whether a memory sits below it.
    pub tool_dirs: Vec<(String, bool)>,
    pub memory_count: i64,
    pub max_memories: i64,
}

impl Around {
    /// What point reads around `probe`'s path would find in a whole snapshot: the reference
    /// the storage layer's reads must agree with.
    pub fn of(probe: &PathProbe, snapshot: &Snapshot) -> Around {
        let under = |p: &str, q: &str| p.strip_prefix(q).is_some_and(|r| r.starts_with('/'));
        let taken = probe.taken_paths();
        let mut files: Vec<&SnapshotFile> = snapshot.files.iter().collect();
        files.sort_by(|a, b| a.path.cmp(&b.path));
        Around {
            at_path: files
                .iter()
                .find(|f| f.path == probe.path)
                .map(|f| (*f).clone()),
            at_parent: files
                .iter()
                .any(|f| f.path != probe.path && taken.contains(&f.path.as_str())),
            below: files.iter().any(|f| under(&f.path, &probe.path)),
            neighbour: probe.neighbourhood().and_then(|p| {
                files
                    .iter()
                    .find(|f| under(&f.path, p) && f.path != probe.path)
                    .map(|f| (*f).clone())
            }),
            tool_dirs: snapshot
                .dirs
                .iter()
                .map(|d| (d.clone(), files.iter().any(|f| under(&f.path, d))))
                .collect(),
            memory_count: snapshot.files.len() as i64,
            max_memories: snapshot.max_memories,
        }
    }
}

/// A stored path every segment of which shows as itself and is the only stored form of its
/// name (no `%`, already canonical): nothing else stored can claim its place in the tree.
fn sole_form(path: &str) -> bool {
    path.trim_start_matches('/')
        .split('/')
        .all(|s| !s.is_empty() && !s.contains('%') && encode_segment(s) == s)
}

impl PathProbe {
    /// The memory paths whose memories [`Around::at_path`] and [`Around::at_parent`] tell of:
    /// the path and each of its parents.
    pub fn taken_paths(&self) -> Vec<&str> {
        let mut paths: Vec<&str> = self.parents.iter().map(String::as_str).collect();
        paths.push(&self.path);
        paths
    }

    /// For a delete, the folder whose other memories [`Around::neighbour`] tells of; `None` for
    /// a create and at the top (the root is never one of the tool's directories).
    pub fn neighbourhood(&self) -> Option<&str> {
        self.delete
            .then(|| self.parents.last().map(String::as_str))
            .flatten()
    }

    /// The tree the command answers on exactly as on the whole store, given what is `around`
    /// the path; `None` when point reads cannot tell (the whole tree must answer).
    ///
    /// Why it is exact: the path's names each have a single stored form, so only the memories
    /// read can sit on its chain. A create needs its path and parents free (then it makes or
    /// reuses directories that nothing else can occupy) and room below the limit whatever the
    /// tree counts; a delete needs a file at its path and none at a parent or below it, and
    /// keeps one neighbour so that its folder stays implied when the whole tree's would. The
    /// tool-made directories with nothing below them are the whole tree's explicit ones, so
    /// the directories the command leaves (its `Effects::dirs`) come out the same.
    pub fn snapshot(&self, around: Around) -> Option<Snapshot> {
        if around.at_parent || around.below || around.tool_dirs.iter().any(|(d, _)| !sole_form(d)) {
            return None;
        }
        let dirs = around
            .tool_dirs
            .into_iter()
            .filter(|(_, in_use)| !in_use)
            .map(|(d, _)| d)
            .collect();
        let files = if self.delete {
            let file = around.at_path.filter(|f| f.path == self.path)?;
            let neighbour = around.neighbour.filter(|n| {
                self.neighbourhood()
                    .is_some_and(|p| n.path.strip_prefix(p).is_some_and(|r| r.starts_with('/')))
                    && n.path != self.path
            });
            std::iter::once(file).chain(neighbour).collect()
        } else {
            if around.at_path.is_some() || around.memory_count >= around.max_memories {
                return None;
            }
            Vec::new()
        };
        Some(Snapshot {
            files,
            dirs,
            max_memories: around.max_memories,
        })
    }
}

/// For a `create` or a `delete`, the memory path it names and that path's parents, when the
/// path is ordinary enough for point reads to stand in for the tree: every name is its own and
/// only stored form and fits `NAME_MAX`, and the path and each parent are valid memory paths
/// (so making a parent can never fail where the store already has it). `None` for other
/// commands and for anything unusual; the storage layer then reads the whole tree.
pub fn path_probe(command: &Command) -> Option<PathProbe> {
    let (path, delete) = match command {
        Command::Create { path, .. } => (path, false),
        Command::Delete { path } => (path, true),
        _ => return None,
    };
    let names = exec::resolve(path).ok()?;
    if names.is_empty() || names.iter().any(|n| n.len() > vfs::NAME_MAX) {
        return None;
    }
    let mut parents = Vec::with_capacity(names.len());
    let mut at = String::new();
    for name in &names {
        at.push('/');
        at.push_str(name);
        crate::path::validate_path(&at).ok()?;
        parents.push(at.clone());
    }
    let path = parents.pop()?;
    if !sole_form(&path) {
        return None;
    }
    Some(PathProbe {
        path,
        parents,
        delete,
    })
}

/// The end of one [`execute`] call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// The command needs this memory's content: load it with [`Vfs::load`] and call again.
    NeedContent(String),
    /// The command ran.
    Done {
        result: ToolResult,
        effects: Effects,
    },
}

/// Runs `command` on the tree. The tree itself is not changed; the changes come back as
/// [`Effects`]. A command that fails may still have effects, exactly when the reference leaves
/// some behind (a directory made before the failure); a reverie refusal has none.
pub fn execute(vfs: &Vfs, command: &Command) -> Step {
    let mut work = vfs.clone();
    let outcome = exec::run(&mut work, command);
    let (is_error, content, keep) = match outcome {
        Ok(s) => (false, s, true),
        Err(exec::Fail::Tool(s)) => (true, s, true),
        Err(exec::Fail::Os(e)) => (true, e.repr().to_string(), true),
        Err(exec::Fail::Nul) => (true, "ValueError('embedded null byte')".to_string(), true),
        Err(exec::Fail::Refused(s)) => (true, s, false),
        Err(exec::Fail::NeedContent(id)) => return Step::NeedContent(id),
    };
    let effects = if keep {
        work.effects()
    } else {
        Effects::default()
    };
    Step::Done {
        result: ToolResult { is_error, content },
        effects,
    }
}

#[cfg(test)]
mod tests;

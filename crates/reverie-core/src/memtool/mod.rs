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

/// A `create`, a `delete` of a file or a `rename` of a file, when a few point reads around its
/// paths can stand in for the whole tree (see [`path_probe`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathProbe {
    /// The paths the command names: one, or a rename's source then its destination.
    pub targets: Vec<Target>,
}

/// One path a probed command names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The memory path.
    pub path: String,
    /// Its proper prefixes, shortest first: the directories on the way.
    pub parents: Vec<String>,
    role: Role,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    /// A new file: the path must be free and the store have room.
    Create,
    /// Where a file moves to: the path must be free.
    Destination,
    /// A file deleted or moved away: it must be there.
    Source,
}

/// What the store holds around each of a probe's paths, read with point reads.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Around {
    /// One per [`PathProbe::targets`], in order.
    pub targets: Vec<Nearby>,
    /// The tool-made directories, each with whether a memory sits below it.
    pub tool_dirs: Vec<(String, bool)>,
    /// The store's memories, and the most it may hold (a create needs room).
    pub memory_count: i64,
    pub max_memories: i64,
}

/// What the store holds around one path.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Nearby {
    /// The memory at the path.
    pub at_path: Option<SnapshotFile>,
    /// Whether a memory sits at one of the parents (a file where a directory must be).
    pub at_parent: bool,
    /// Whether a memory sits below the path.
    pub below: bool,
    /// Another memory below the path's parent, if there is one (read for a file leaving its
    /// folder; see [`Target::neighbourhood`]).
    pub neighbour: Option<SnapshotFile>,
}

/// A stored path every segment of which shows as itself and is the only stored form of its
/// name (no `%`, already canonical): nothing else stored can claim its place in the tree.
fn sole_form(path: &str) -> bool {
    path.trim_start_matches('/')
        .split('/')
        .all(|s| !s.is_empty() && !s.contains('%') && encode_segment(s) == s)
}

fn is_below(path: &str, folder: &str) -> bool {
    path.strip_prefix(folder)
        .is_some_and(|r| r.starts_with('/'))
}

impl Target {
    /// The memory paths whose memories [`Nearby::at_path`] and [`Nearby::at_parent`] tell of:
    /// the path and each of its parents.
    pub fn taken_paths(&self) -> Vec<&str> {
        let mut paths: Vec<&str> = self.parents.iter().map(String::as_str).collect();
        paths.push(&self.path);
        paths
    }

    /// For a file leaving its folder, the folder whose other memories [`Nearby::neighbour`]
    /// tells of; `None` otherwise and at the top (the root is never a tool-made directory).
    pub fn neighbourhood(&self) -> Option<&str> {
        (self.role == Role::Source)
            .then(|| self.parents.last().map(String::as_str))
            .flatten()
    }

    fn new(path: &str, role: Role) -> Option<Target> {
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
        sole_form(&path).then_some(Target {
            path,
            parents,
            role,
        })
    }
}

impl PathProbe {
    /// The tree the command answers on exactly as on the whole store, given what is `around`
    /// its paths; `None` when point reads cannot tell (the whole tree must answer).
    ///
    /// Why it is exact: each path's names have a single stored form, so only the memories read
    /// can sit on its chain. A new file or a destination needs its path and parents free
    /// (then the command makes or reuses directories nothing else can occupy), and a create
    /// room below the limit whatever the tree counts; a file deleted or moved away must be
    /// there with nothing at a parent or below it, and keeps one neighbour so that its folder
    /// stays implied when the whole tree's would. The tool-made directories with nothing below
    /// them are the whole tree's explicit ones, so the directories the command leaves (its
    /// `Effects::dirs`) come out the same.
    pub fn snapshot(&self, around: Around) -> Option<Snapshot> {
        if around.targets.len() != self.targets.len()
            || around.tool_dirs.iter().any(|(d, _)| !sole_form(d))
        {
            return None;
        }
        let mut files: Vec<SnapshotFile> = Vec::new();
        for (t, near) in self.targets.iter().zip(around.targets) {
            if near.at_parent || near.below {
                return None;
            }
            match t.role {
                Role::Create | Role::Destination => {
                    let full = t.role == Role::Create && around.memory_count >= around.max_memories;
                    if near.at_path.is_some() || full {
                        return None;
                    }
                }
                Role::Source => {
                    let file = near.at_path.filter(|f| f.path == t.path)?;
                    let folder = t.neighbourhood();
                    let neighbour = near.neighbour.filter(|n| {
                        folder.is_some_and(|p| is_below(&n.path, p)) && n.path != t.path
                    });
                    files.push(file);
                    files.extend(neighbour);
                }
            }
        }
        let dirs = around
            .tool_dirs
            .into_iter()
            .filter(|(_, in_use)| !in_use)
            .map(|(d, _)| d)
            .collect();
        Some(Snapshot {
            files,
            dirs,
            max_memories: around.max_memories,
        })
    }
}

impl Around {
    /// What point reads around `probe`'s paths would find in a whole snapshot: the reference
    /// the storage layer's reads must agree with.
    pub fn of(probe: &PathProbe, snapshot: &Snapshot) -> Around {
        let mut files: Vec<&SnapshotFile> = snapshot.files.iter().collect();
        files.sort_by(|a, b| a.path.cmp(&b.path));
        let nearby = |t: &Target| {
            let taken = t.taken_paths();
            Nearby {
                at_path: files
                    .iter()
                    .find(|f| f.path == t.path)
                    .map(|f| (*f).clone()),
                at_parent: files
                    .iter()
                    .any(|f| f.path != t.path && taken.contains(&f.path.as_str())),
                below: files.iter().any(|f| is_below(&f.path, &t.path)),
                neighbour: t.neighbourhood().and_then(|p| {
                    files
                        .iter()
                        .find(|f| is_below(&f.path, p) && f.path != t.path)
                        .map(|f| (*f).clone())
                }),
            }
        };
        Around {
            targets: probe.targets.iter().map(nearby).collect(),
            tool_dirs: snapshot
                .dirs
                .iter()
                .map(|d| (d.clone(), files.iter().any(|f| is_below(&f.path, d))))
                .collect(),
            memory_count: snapshot.files.len() as i64,
            max_memories: snapshot.max_memories,
        }
    }
}

/// For a `create`, a `delete` or a `rename`, the memory paths it names with their parents,
/// when the paths are ordinary enough for point reads to stand in for the tree: every name is
/// its own and only stored form and fits `NAME_MAX`, and each path and parent is a valid
/// memory path (so making a parent can never fail where the store already has it). `None` for
/// other commands and for anything unusual; the storage layer then reads the whole tree.
pub fn path_probe(command: &Command) -> Option<PathProbe> {
    let targets = match command {
        Command::Create { path, .. } => vec![Target::new(path, Role::Create)?],
        Command::Delete { path } => vec![Target::new(path, Role::Source)?],
        Command::Rename { old_path, new_path } => vec![
            Target::new(old_path, Role::Source)?,
            Target::new(new_path, Role::Destination)?,
        ],
        _ => return None,
    };
    Some(PathProbe { targets })
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

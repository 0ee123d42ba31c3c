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

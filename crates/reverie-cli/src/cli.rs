//! The command line's shape: every command, flag and argument, declared with clap.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// reverie: versioned, reviewable memory for AI agents.
#[derive(Debug, Parser)]
#[command(name = "reverie", version, about, long_about = None, max_term_width = 100)]
pub struct Cli {
    /// The database: a SQLite file path (or sqlite://PATH), or a postgres:// URL.
    /// [default: $XDG_DATA_HOME/reverie/reverie.db]
    #[arg(long, global = true, env = "REVERIE_DATABASE_URL", value_name = "URL")]
    pub database: Option<String>,

    /// Print JSON for programs instead of text for people.
    #[arg(long, global = true)]
    pub json: bool,

    /// Who the change is recorded as: user:ID, session:ID, api:ID or service:ID.
    /// [default: user:$USER]
    #[arg(long, global = true, env = "REVERIE_ACTOR", value_name = "KIND:ID")]
    pub actor: Option<String>,

    #[command(subcommand)]
    pub command: Cmd,
}

#[derive(Debug, Subcommand)]
pub enum Cmd {
    /// Create, list, show, change, archive, delete and check memory stores.
    #[command(subcommand)]
    Store(StoreCmd),
    /// Create or replace a memory's content (from --content, --file, or standard input).
    Put(PutArgs),
    /// Print a memory (or one of its versions).
    Get(GetArgs),
    /// List memories, optionally below a prefix and rolled up at a depth.
    Ls(LsArgs),
    /// Rename a memory; it keeps its id and history.
    Mv(MvArgs),
    /// Delete a memory (its versions stay, and it can be restored).
    Rm(RmArgs),
    /// Show a memory's versions, or the store's revisions.
    Log(LogArgs),
    /// Show what changed between two versions of a memory, or two revisions of the store.
    Diff(DiffArgs),
    /// Bring a memory back to a version, or the whole store back to a revision.
    Restore(RestoreArgs),
    /// Erase a version's content and path for good (compliance).
    Redact(RedactArgs),
    /// Run one memory_20250818 tool command (JSON) against a store.
    #[command(name = "memory-tool")]
    MemoryTool(MemoryToolArgs),
    /// Ingest agent transcripts (files, folders, globs) as sessions of a store.
    Ingest(IngestArgs),
    /// List sessions, show one, or set its outcome.
    #[command(subcommand)]
    Sessions(SessionsCmd),
    /// A guided tour: an agent's notes written, broken and restored, on a sample store.
    Tour(TourArgs),
}

#[derive(Debug, Args)]
pub struct IngestArgs {
    #[command(flatten)]
    pub store: StoreArg,
    /// Transcript files, folders (read recursively) or glob patterns.
    #[arg(required = true)]
    pub paths: Vec<String>,
    /// Read every file as this format instead of detecting it from the content.
    #[arg(long, value_name = "FORMAT")]
    pub format: Option<String>,
    /// Ingest files already ingested again from scratch (for files rewritten in place).
    #[arg(long)]
    pub replace: bool,
    /// Record this outcome on every session ingested: success, failure or partial.
    #[arg(long)]
    pub outcome: Option<String>,
    /// A score in [0, 1] for --outcome.
    #[arg(long, requires = "outcome")]
    pub score: Option<f64>,
    /// A note for --outcome.
    #[arg(long, requires = "outcome")]
    pub note: Option<String>,
    /// No progress bar.
    #[arg(long)]
    pub quiet: bool,
}

#[derive(Debug, Subcommand)]
pub enum SessionsCmd {
    /// A store's sessions, newest first.
    Ls {
        #[command(flatten)]
        store: StoreArg,
        #[arg(long, default_value_t = 50)]
        limit: i64,
    },
    /// A session, readably: its turns, tool calls and results, errors highlighted.
    Show {
        /// The session id (sesn_…).
        session: String,
        /// Print every event in full instead of cutting long ones.
        #[arg(long)]
        full: bool,
        /// Print the raw (redacted) source lines instead of the events.
        #[arg(long, conflicts_with = "full")]
        raw: bool,
    },
    /// Set a session's outcome (success, failure, partial), or clear it.
    Outcome {
        session: String,
        /// success, failure, partial, or clear.
        status: String,
        #[arg(long)]
        score: Option<f64>,
        #[arg(long)]
        note: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum StoreCmd {
    /// Create a memory store.
    Create {
        name: String,
        #[arg(long, default_value = "")]
        description: String,
        /// A metadata pair (repeatable).
        #[arg(long = "metadata", value_name = "KEY=VALUE")]
        metadata: Vec<String>,
        /// The most memories the store may hold.
        #[arg(long)]
        max_memories: Option<i64>,
    },
    /// List memory stores, newest first.
    Ls {
        /// Include archived stores.
        #[arg(long)]
        all: bool,
        #[arg(long, default_value_t = 100)]
        limit: i64,
    },
    /// Show one store.
    Show { store: String },
    /// Change a store's name, description, metadata or memory limit.
    Update {
        store: String,
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        description: Option<String>,
        /// Set a pair with KEY=VALUE, remove one with KEY= (repeatable).
        #[arg(long = "metadata", value_name = "KEY=[VALUE]")]
        metadata: Vec<String>,
        #[arg(long)]
        max_memories: Option<i64>,
    },
    /// Make a store read-only.
    Archive { store: String },
    /// Delete a store with all its memories and history.
    Delete {
        store: String,
        /// Required: deleting a store cannot be undone.
        #[arg(long)]
        yes: bool,
    },
    /// Verify every invariant of a store's memories, versions and revisions.
    Check { store: String },
}

/// The store a memory command works on.
#[derive(Debug, Args)]
pub struct StoreArg {
    /// The memory store, by id or by name.
    #[arg(long, short = 's', env = "REVERIE_STORE")]
    pub store: String,
}

#[derive(Debug, Args)]
pub struct PutArgs {
    #[command(flatten)]
    pub store: StoreArg,
    /// The memory's path, e.g. /projects/foo/notes.md.
    pub path: String,
    /// The content (otherwise --file, otherwise standard input).
    #[arg(long, conflicts_with = "file")]
    pub content: Option<String>,
    /// Read the content from this file.
    #[arg(long)]
    pub file: Option<PathBuf>,
    /// Only write if the current content has this sha256 (optimistic concurrency).
    #[arg(long, value_name = "SHA256")]
    pub if_sha: Option<String>,
    /// Fail if the memory exists instead of replacing it.
    #[arg(long)]
    pub create_only: bool,
}

#[derive(Debug, Args)]
pub struct GetArgs {
    #[command(flatten)]
    pub store: StoreArg,
    /// A path (/…) or a memory id (mem_…).
    pub memory: String,
    /// Print this version instead of the current content.
    #[arg(long, value_name = "MEMVER_ID")]
    pub version: Option<String>,
}

#[derive(Debug, Args)]
pub struct LsArgs {
    #[command(flatten)]
    pub store: StoreArg,
    /// Only memories below this prefix (ending with /).
    pub prefix: Option<String>,
    /// Roll up memories deeper than this many segments below the prefix (0: no roll-up).
    #[arg(long, default_value_t = 0)]
    pub depth: i64,
}

#[derive(Debug, Args)]
pub struct MvArgs {
    #[command(flatten)]
    pub store: StoreArg,
    pub from: String,
    pub to: String,
    #[arg(long, value_name = "SHA256")]
    pub if_sha: Option<String>,
}

#[derive(Debug, Args)]
pub struct RmArgs {
    #[command(flatten)]
    pub store: StoreArg,
    pub memory: String,
    #[arg(long, value_name = "SHA256")]
    pub if_sha: Option<String>,
}

#[derive(Debug, Args)]
pub struct LogArgs {
    #[command(flatten)]
    pub store: StoreArg,
    /// A memory (path or id); without it, the store's revisions.
    pub memory: Option<String>,
    #[arg(long, default_value_t = 50)]
    pub limit: i64,
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    #[command(flatten)]
    pub store: StoreArg,
    /// A memory (path or id). Without it, --revision compares the whole store.
    pub memory: Option<String>,
    /// The older version (default: the one before --to).
    #[arg(long, value_name = "MEMVER_ID")]
    pub from: Option<String>,
    /// The newer version (default: the current one).
    #[arg(long, value_name = "MEMVER_ID")]
    pub to: Option<String>,
    /// Compare the store between two revisions: A..B, or A (from A to now).
    #[arg(long, value_name = "A[..B]")]
    pub revision: Option<String>,
}

#[derive(Debug, Args)]
pub struct RestoreArgs {
    #[command(flatten)]
    pub store: StoreArg,
    /// The memory to restore (path or id); with --version.
    pub memory: Option<String>,
    /// The version to bring the memory back to.
    #[arg(
        long,
        value_name = "MEMVER_ID",
        requires = "memory",
        conflicts_with = "revision"
    )]
    pub version: Option<String>,
    /// Bring every memory of the store back to this revision.
    #[arg(long, value_name = "N", conflicts_with = "memory")]
    pub revision: Option<i64>,
}

#[derive(Debug, Args)]
pub struct RedactArgs {
    #[command(flatten)]
    pub store: StoreArg,
    pub version: String,
}

#[derive(Debug, Args)]
pub struct MemoryToolArgs {
    #[command(flatten)]
    pub store: StoreArg,
    /// The command as JSON, e.g. '{"command":"view","path":"/memories"}'.
    #[arg(required_unless_present = "batch")]
    pub command: Option<String>,
    /// Read one JSON command per line from standard input; print one JSON result per line.
    #[arg(long, conflicts_with = "command")]
    pub batch: bool,
}

#[derive(Debug, Args)]
pub struct TourArgs {
    /// Name of the sample store (replaced if it exists).
    #[arg(long, default_value = "reverie-tour")]
    pub name: String,
}

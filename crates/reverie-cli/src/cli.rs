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
    /// Curate a store's memory from its sessions: extract, merge, supersede, budget, guard.
    Dream(DreamArgs),
    /// List dreams, show one's changeset, approve or reject a proposal, cancel, revert.
    #[command(subcommand)]
    Dreams(DreamsCmd),
    /// What dreams removed, merged, rewrote, superseded or archived over time; exits 1 when
    /// something load-bearing was lost.
    Drift(DriftArgs),
    /// The failure curve: each session's tool errors, how many repeated an earlier session's,
    /// whether their lesson was in memory and served; per error signature, before and after
    /// its lesson.
    Curve(CurveArgs),
    /// The errors notes did not fix: those that recurred in sessions served their lesson, with
    /// the sessions and the steps that finally worked; exported as a fine-tuning data set.
    Ceiling(CeilingArgs),
    /// Show or change a store's policy: budget, protected paths, memory tests, review.
    #[command(subcommand)]
    Policy(PolicyCmd),
    /// The configuration: model providers and their keys, the default curator.
    #[command(subcommand)]
    Config(ConfigCmd),
    /// Create, list and revoke API keys for `reverie serve`.
    #[command(subcommand)]
    Keys(KeysCmd),
    /// List a store's entries with their metadata; pin, unpin or restore one.
    #[command(subcommand)]
    Entries(EntriesCmd),
    /// Search a store's entries, best first (BM25, the same on SQLite and PostgreSQL); the
    /// results count as served unless --no-serve.
    Recall(RecallArgs),
    /// What an agent should read at the start of a session: the glossary entries the query
    /// names, pinned entries, the index and the most relevant entries, within a token budget.
    Context(ContextArgs),
    /// Keep a note for future sessions: appended to a memory (default /notes.md) as one entry,
    /// found by recall at once, curated by the next dream. A note holding a secret is refused.
    Remember(RememberArgs),
    /// Serve the MCP tools (memory, recall, remember, context) over stdin and stdout, for an
    /// agent to start as a local MCP server.
    Mcp(McpArgs),
    /// Serve the HTTP API (the memory-store routes of the contract) on a local address.
    Serve(ServeArgs),
    /// Dream the stores whose schedule calls for it (policy: after N sessions, at least T
    /// apart), in a loop or once; several workers may share one PostgreSQL.
    Worker(WorkerArgs),
    /// The main demo: ingest the bundled example sessions, dream, and print the changeset and
    /// the resulting memory.
    Demo(DemoArgs),
    /// Benchmarks on generated data, in scratch databases (see BENCHMARKS.md).
    #[command(subcommand)]
    Bench(BenchCmd),
    /// Claude Code: hooks that bring its sessions in and serve the curated memory back.
    #[command(subcommand, name = "claude-code")]
    ClaudeCode(ClaudeCodeCmd),
}

#[derive(Debug, Subcommand)]
pub enum ClaudeCodeCmd {
    /// Register reverie's hooks in Claude Code's settings (the user's, or a project's),
    /// keeping every other setting and hook as it is; a backup of the file is kept, the change
    /// is shown, and running it again changes nothing.
    Install(ClaudeCodeSettingsArgs),
    /// Take reverie's hooks out of Claude Code's settings, leaving the rest as it is.
    Uninstall(ClaudeCodeSettingsArgs),
    /// Sweep Claude Code's transcripts (`~/.claude/projects/*/*.jsonl`) for sessions no hook
    /// brought in (ended with Ctrl+C, machines without the hooks), each into its project's
    /// store, then dream the stores whose schedule calls for it.
    Sync(ClaudeCodeSyncArgs),
    /// What is installed (the user's settings and this folder's project), which projects map
    /// to which stores with their last ingest and dream, and what went wrong in the hooks.
    Status,
    /// Run as a Claude Code hook: the event's JSON on standard input (SessionStart,
    /// UserPromptSubmit, PreCompact, SessionEnd, PostToolUseFailure, StopFailure). A hook never
    /// fails the session: an error is logged and the hook exits 0.
    Hook(ClaudeCodeHookArgs),
}

#[derive(Debug, Args)]
pub struct ClaudeCodeHookArgs {
    /// The long half of a hook, run in the background by the hook itself: the event's JSON on
    /// standard input; FILE (the pending-work marker) is removed when it is done.
    #[arg(long, value_name = "FILE", hide = true)]
    pub background: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ClaudeCodeSyncArgs {
    /// Claude Code's projects folder. [default: $CLAUDE_CONFIG_DIR/projects, else
    /// ~/.claude/projects]
    #[arg(long, value_name = "DIR")]
    pub projects: Option<PathBuf>,
    /// Only bring the transcripts in; dream nothing.
    #[arg(long)]
    pub no_dream: bool,
    /// Leave Claude Code's memory folders alone: read nothing back, export nothing.
    #[arg(long)]
    pub no_export: bool,
}

#[derive(Debug, Args)]
pub struct ClaudeCodeSettingsArgs {
    /// This project's settings (DIR/.claude/settings.json) instead of the user's
    /// (~/.claude/settings.json).
    #[arg(long, value_name = "DIR")]
    pub project: Option<PathBuf>,
    /// Show the change without writing it.
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Subcommand)]
pub enum BenchCmd {
    /// Time a dream (per stage) and its peak memory over a generated store and sessions, at
    /// several scales.
    Dream(BenchDreamArgs),
    /// Time `reverie drift` over a generated store with 1,000 revisions of dreams and writes.
    Drift(BenchDriftArgs),
    /// Curation on real agent transcripts against a gold answer key: the notes a careful
    /// curator would keep, present and retrieved, and junk that must never appear.
    Curation(BenchCurationArgs),
    /// Evidence recall on LoCoMo conversations: memory dreamed to a fraction of the raw size
    /// against BM25 over every raw turn and over the most recent turns.
    Locomo(BenchLocomoArgs),
    /// Recall and context latency (p50, p99) on a generated 2,000-memory store, beside a
    /// memory read and an in-memory BM25 in the same run (--database for PostgreSQL).
    Recall(BenchRecallArgs),
    /// The failure curve replayed on real transcripts: each project's sessions one by one with
    /// a dream after each; the share of repeated failures whose lesson the memory would have
    /// served (recall's top 5 for the failing step, or the starting context).
    Curve(BenchCurveArgs),
    /// Claude Code's hooks as Claude Code runs them (a process per event, start included) on
    /// a generated 2,000-memory project store: SessionStart, UserPromptSubmit, and how soon
    /// SessionEnd returns with a large transcript; beside a bare process start.
    Hooks(BenchHooksArgs),
    /// The review page's server time (p50, p99 of each page, over loopback) on a generated
    /// store of 2,000 memories with 500 dreams.
    Ui(BenchUiArgs),
    /// What a model dream sends: input tokens per dream with the store at several sizes and
    /// the same new sessions, and with more new sessions; beside sending the whole store.
    ModelInput(BenchModelInputArgs),
    /// Every operation's latency (p50, p99) as one store grows through several sizes: the
    /// memory tool in process and over HTTP, get, list, recall, context, ingest and dream,
    /// with each one's growth from size to size (--database for PostgreSQL).
    Scale(BenchScaleArgs),
    /// Ingest's rate beside its parser's on real transcripts (a folder of copies of them),
    /// alternating, and the database's size beside the transcripts' (--database for
    /// PostgreSQL)
    Ingest(BenchIngestArgs),
}

#[derive(Debug, Args)]
pub struct BenchIngestArgs {
    /// A folder of JSON-lines transcripts (searched below for `*.jsonl`).
    #[arg(long, default_value = "../shared/data/transcripts", value_name = "DIR")]
    pub data: std::path::PathBuf,
    /// Megabytes to ingest: the transcripts are copied under new names until the folder
    /// holds this much.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u64).range(1..))]
    pub mb: u64,
    /// Runs of each (read, then ingest into a fresh store).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u64).range(1..))]
    pub runs: u64,
}

#[derive(Debug, Args)]
pub struct BenchScaleArgs {
    /// The store sizes, in memories, in increasing order: the one store grows through each.
    #[arg(long, default_value = "100,1000,10000", value_name = "N,N,…")]
    pub sizes: String,
    /// Timed runs of each operation at each size (ingest and dream: at most 20).
    #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u64).range(1..))]
    pub ops: u64,
}

#[derive(Debug, Args)]
pub struct BenchModelInputArgs {
    /// Memories in the store at size 1× (about 1 KB each).
    #[arg(long, default_value_t = 100)]
    pub memories: usize,
    /// Turns per generated session.
    #[arg(long, default_value_t = 40)]
    pub turns: usize,
    /// The store sizes, as multiples of --memories, read with --sessions-at new sessions.
    #[arg(long, default_value = "1,4,16")]
    pub store_scales: String,
    /// New sessions read by each dream of the store sizes.
    #[arg(long, default_value_t = 4)]
    pub sessions_at: usize,
    /// The numbers of new sessions, read with the store at 1×.
    #[arg(long, default_value = "1,4,16")]
    pub sessions: String,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The address to listen on (every request needs an API key: `reverie keys create`).
    #[arg(long, default_value = "127.0.0.1:8787", value_name = "ADDR:PORT")]
    pub listen: std::net::SocketAddr,
    /// Leave the dreams created through the API pending, for `reverie worker` processes to
    /// run (by default the server runs them itself).
    #[arg(long)]
    pub queue_dreams: bool,
}

#[derive(Debug, Args)]
pub struct WorkerArgs {
    /// One pass over the stores, then exit.
    #[arg(long)]
    pub once: bool,
    /// Seconds between passes.
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..))]
    pub interval: u64,
    /// Also run `claude-code sync` at each pass: Claude Code's transcripts no hook brought in
    /// swept into their projects' stores, the memory folders read back and exported. Only
    /// transcripts that changed since the last pass are read again.
    #[arg(long)]
    pub claude_code: bool,
}

#[derive(Debug, Subcommand)]
pub enum KeysCmd {
    /// Make a key and print its secret (shown this once; only its digest is kept).
    Create(KeysCreateArgs),
    /// List keys (never their secrets).
    Ls,
    /// Revoke a key: requests with it are refused from now on.
    Revoke {
        /// The key's id (apikey_…).
        id: String,
    },
}

#[derive(Debug, Args)]
pub struct KeysCreateArgs {
    /// A name to know the key by.
    pub name: String,
    /// A store the key may see and change (id or unique name); repeat for several.
    #[arg(short = 's', long = "store", required_unless_present = "all")]
    pub stores: Vec<String>,
    /// Every store, and creating new ones.
    #[arg(long, conflicts_with = "stores")]
    pub all: bool,
}

#[derive(Debug, Args)]
pub struct BenchCurveArgs {
    /// The folder of transcripts with the curation benchmark's gold.json, which names each
    /// project's files in the order they happened.
    #[arg(long, value_name = "DIR")]
    pub data: PathBuf,
    /// Only this project (repeat for several).
    #[arg(long, value_name = "NAME")]
    pub project: Vec<String>,
    /// The curator, as `reverie dream --model` takes it (default: deterministic).
    #[arg(long, value_name = "NAME")]
    pub model: Option<String>,
}

#[derive(Debug, Args)]
pub struct BenchUiArgs {
    /// Memories in the store (about 1 KB, eight notes each).
    #[arg(long, default_value_t = 2000)]
    pub memories: usize,
    /// Dreams over it, each over one small session that adds or corrects a note.
    #[arg(long, default_value_t = 500)]
    pub dreams: usize,
    /// Timed requests of each page.
    #[arg(long, default_value_t = 30)]
    pub runs: usize,
    /// Keep the generated store in this folder, and reuse it when a run with the same
    /// --memories and --dreams built it there (building takes minutes; measuring seconds).
    #[arg(long, value_name = "DIR")]
    pub keep: Option<std::path::PathBuf>,
}

#[derive(Debug, Args)]
pub struct BenchHooksArgs {
    /// Memories in the project's store (about 1 KB, eight notes each).
    #[arg(long, default_value_t = 2000)]
    pub memories: usize,
    /// Timed runs of each hook.
    #[arg(long, default_value_t = 50)]
    pub runs: usize,
    /// Megabytes of the transcript a timed SessionEnd hands over.
    #[arg(long, default_value_t = 20)]
    pub transcript_mb: usize,
}

#[derive(Debug, Args)]
pub struct BenchRecallArgs {
    /// Memories in the generated store (about 1 KB, eight notes each).
    #[arg(long, default_value_t = 2000)]
    pub memories: usize,
    /// Timed queries.
    #[arg(long, default_value_t = 1000)]
    pub queries: usize,
    /// Untimed queries first.
    #[arg(long, default_value_t = 50)]
    pub warmup: usize,
    /// Results per recall.
    #[arg(short, default_value_t = 10, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=100))]
    pub k: usize,
}

#[derive(Debug, Args)]
pub struct BenchLocomoArgs {
    /// A folder of LoCoMo files (*.json), or one file.
    #[arg(long, value_name = "DIR")]
    pub data: PathBuf,
    /// The memory's budget, as a fraction of the raw transcript's size.
    #[arg(long, default_value_t = 0.25)]
    pub budget: f64,
}

#[derive(Debug, Args)]
pub struct BenchCurationArgs {
    /// The folder the gold file's transcript names are relative to.
    #[arg(long, value_name = "DIR")]
    pub data: PathBuf,
    /// The answer key (`reverie-curation-gold/1`). [default: DIR/gold.json]
    #[arg(long, value_name = "FILE")]
    pub gold: Option<PathBuf>,
    /// Only this project (repeat for several).
    #[arg(long, value_name = "NAME")]
    pub project: Vec<String>,
    /// Skip the growth run (a dream after every session).
    #[arg(long)]
    pub no_growth: bool,
    /// Keep the databases in this folder (one per project) instead of a scratch folder.
    #[arg(long, value_name = "DIR")]
    pub keep: Option<PathBuf>,
    /// List every test's result and every junk entry.
    #[arg(short, long)]
    pub verbose: bool,
    /// Exit with status 1 when fewer than this percentage of the tests are retrieved (a
    /// regression gate for CI).
    #[arg(long, value_name = "PCT", value_parser = clap::value_parser!(u8).range(0..=100))]
    pub fail_under: Option<u8>,
    /// Exit with status 1 when more junk tests than this are hit.
    #[arg(long, value_name = "N")]
    pub max_junk: Option<usize>,
    /// The curator, as `reverie dream --model` takes it (default: deterministic).
    #[arg(long, value_name = "NAME")]
    pub model: Option<String>,
}

#[derive(Debug, Args)]
pub struct BenchDriftArgs {
    /// Store revisions to build.
    #[arg(long, default_value_t = 1000)]
    pub revisions: usize,
    /// One revision in this many is a dream; the others are memory writes.
    #[arg(long, default_value_t = 2)]
    pub dream_every: usize,
    /// Turns of the session each dream reads.
    #[arg(long, default_value_t = 6)]
    pub turns: usize,
    /// Times to run the drift computation (the median is reported).
    #[arg(long, default_value_t = 5)]
    pub runs: usize,
}

#[derive(Debug, Args)]
pub struct CeilingArgs {
    #[command(flatten)]
    pub store: StoreArg,
    /// Sessions an error must have failed in although its lesson was served in them.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u64).range(1..))]
    pub min: u64,
    /// Write the examples (the context before each failing step, the step that worked) to
    /// FILE as fine-tuning JSON lines.
    #[arg(long, value_name = "FILE")]
    pub export: Option<std::path::PathBuf>,
    /// The data set's format: OpenAI's chat fine-tuning, or Anthropic's (Claude on Bedrock).
    #[arg(long, value_parser = ["openai", "anthropic"], default_value = "openai")]
    pub format: String,
}

#[derive(Debug, Args)]
pub struct CurveArgs {
    #[command(flatten)]
    pub store: StoreArg,
    /// Only sessions that started at or after this date (RFC 3339, or YYYY-MM-DD for midnight
    /// UTC); earlier ones still make later failures repeats. [default: every session]
    #[arg(long, value_name = "DATE")]
    pub since: Option<String>,
    /// Signatures listed in the text report (most frequent first).
    #[arg(long, default_value_t = 10)]
    pub top: usize,
    /// Also draw the curve as an SVG picture into FILE.
    #[arg(long, value_name = "FILE")]
    pub svg: Option<std::path::PathBuf>,
}

#[derive(Debug, Args)]
pub struct DriftArgs {
    #[command(flatten)]
    pub store: StoreArg,
    /// Only dreams applied after this store revision, or since this date (RFC 3339, or
    /// YYYY-MM-DD for midnight UTC). [default: the whole history]
    #[arg(long, value_name = "REVISION|DATE")]
    pub since: Option<String>,
    /// An entry helpful in at least this many successful sessions (and more often helpful
    /// than harmful) is load-bearing.
    #[arg(
        long,
        value_name = "N",
        default_value_t = reverie_curate::drift::DEFAULT_MIN_HELPFUL,
        value_parser = clap::value_parser!(i64).range(1..)
    )]
    pub min_helpful: i64,
    /// List every change of every dream (the text report shows the first few of each).
    #[arg(long)]
    pub full: bool,
}

#[derive(Debug, Args)]
pub struct BenchDreamArgs {
    /// Memories in the store at scale 1 (about 1 KB each).
    #[arg(long, default_value_t = 2000)]
    pub memories: usize,
    /// Sessions the dream reads (the contract's limit is 100).
    #[arg(long, default_value_t = 100)]
    pub sessions: usize,
    /// Turns per session at scale 1 (about 4.5 events each).
    #[arg(long, default_value_t = 75)]
    pub turns: usize,
    /// The scales to run: memories and turns are multiplied by each.
    #[arg(long, default_value = "1,4,16")]
    pub scales: String,
    /// Run one scale in this process (used by the parent run).
    #[arg(long, hide = true)]
    pub child: Option<usize>,
    /// Instead of generated sessions, --sessions sessions of --session-mb each built from the
    /// real transcripts (*.jsonl) of this folder: the dream's peak memory on large sessions.
    #[arg(long, value_name = "DIR")]
    pub from: Option<std::path::PathBuf>,
    /// With --from: the size of each session, in MB.
    #[arg(long, default_value_t = 5, requires = "from")]
    pub session_mb: usize,
    /// Dream the sessions of this database (used by the parent run of --from).
    #[arg(long, hide = true)]
    pub child_db: Option<String>,
}

#[derive(Debug, Args)]
pub struct DreamArgs {
    #[command(flatten)]
    pub store: StoreArg,
    /// Sessions to read (sesn_…); without any, --since-last.
    pub sessions: Vec<String>,
    /// Read the store's sessions no completed dream has read yet (up to 100, oldest first).
    #[arg(long, conflicts_with = "sessions")]
    pub since_last: bool,
    /// Where the result goes: `update` the store in place (one revision, revertible), or a
    /// `new` store that starts as a copy (the input is never modified).
    #[arg(long, value_name = "update|new", default_value = "update")]
    pub output: String,
    /// End as a proposal to approve or reject (`reverie dreams approve|reject`), whatever the
    /// store's policy says.
    #[arg(long, conflicts_with = "no_review")]
    pub review: bool,
    /// Apply the result even if the store's policy asks for review.
    #[arg(long)]
    pub no_review: bool,
    /// Guidance for the dream (1–4,096 characters; the deterministic curator records it).
    #[arg(long)]
    pub instructions: Option<String>,
    /// Also print each changed memory as a unified diff.
    #[arg(long)]
    pub diff: bool,
    /// The curator: `deterministic`, a Claude model (`claude-sonnet-4-6`, needs
    /// ANTHROPIC_API_KEY), `openai:URL#MODEL` (any OpenAI-compatible server), `exec:COMMAND`
    /// (the request as JSON on the command's input, the answer on its output), or a name from
    /// the config file. Default: the store's policy, then the config file, then deterministic.
    /// A model that cannot be served is an error, never a silent fallback.
    #[arg(long, value_name = "NAME")]
    pub model: Option<String>,
    /// Dream again from a model dream's recorded exchanges (no model needed): on the same store
    /// state and sessions, the same result.
    #[arg(long, value_name = "DREAM", conflicts_with = "model")]
    pub replay: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum ConfigCmd {
    /// The effective configuration (defaults, the config file, REVERIE_* and provider
    /// variables), secrets masked.
    Show,
    /// Where the config file is read from.
    Path,
}

#[derive(Debug, Subcommand)]
pub enum DreamsCmd {
    /// Dreams, newest first.
    Ls {
        /// Only the dreams of this store (id or name).
        #[arg(long, short = 's')]
        store: Option<String>,
        /// Only dreams with this status (repeatable).
        #[arg(long)]
        status: Vec<String>,
        /// Include archived dreams.
        #[arg(long)]
        all: bool,
        #[arg(long, default_value_t = 20)]
        limit: i64,
    },
    /// A dream: its status and changeset (every operation with its reason and evidence).
    Show {
        dream: String,
        /// Also print each changed memory as a unified diff.
        #[arg(long)]
        diff: bool,
        /// Also print a model dream's exchanges: every request (what the model saw) and reply
        /// (what it said).
        #[arg(long)]
        exchanges: bool,
    },
    /// Apply a proposal (rebased onto later writes, refused if they touch what it changes).
    /// With --only or --except, only some of its operations (numbered as `dreams show` lists
    /// them): the rest are rejected, and what remains goes through the budget and the guard
    /// again.
    Approve {
        dream: String,
        /// Apply only these operations (comma-separated numbers).
        #[arg(
            long,
            value_delimiter = ',',
            conflicts_with = "except",
            value_name = "N,…"
        )]
        only: Vec<usize>,
        /// Apply every operation but these.
        #[arg(long, value_delimiter = ',', value_name = "N,…")]
        except: Vec<usize>,
    },
    /// Discard a proposal; nothing changes.
    Reject { dream: String },
    /// Stop a pending or running dream.
    Cancel { dream: String },
    /// Undo an applied dream: every memory it changed goes back, as a new revision; later
    /// writes to other memories stay.
    Revert { dream: String },
    /// Hide a finished dream from `dreams ls`.
    Archive { dream: String },
}

#[derive(Debug, Subcommand)]
pub enum PolicyCmd {
    /// Print a store's policy.
    Show {
        #[command(flatten)]
        store: StoreArg,
    },
    /// Change a store's policy: the flags given change, the rest stays.
    Set(Box<PolicySetArgs>),
}

#[derive(Debug, Args)]
pub struct PolicySetArgs {
    #[command(flatten)]
    pub store: StoreArg,
    /// Replace the whole policy with this JSON file's.
    #[arg(long, conflicts_with_all = ["max_total_bytes", "max_memory_bytes", "index_max_lines", "index_max_bytes", "protect", "unprotect", "review", "secrets", "must_contain", "must_not_contain", "recall", "clear_tests", "after_sessions", "cron", "min_interval", "model", "max_input_tokens", "max_output_tokens", "max_cost_usd"])]
    pub file: Option<PathBuf>,
    /// The most bytes all memories together may hold.
    #[arg(long)]
    pub max_total_bytes: Option<u64>,
    /// The most bytes one memory may hold.
    #[arg(long)]
    pub max_memory_bytes: Option<u64>,
    /// The most lines of the index (/MEMORY.md).
    #[arg(long)]
    pub index_max_lines: Option<u32>,
    /// The most bytes of the index.
    #[arg(long)]
    pub index_max_bytes: Option<u64>,
    /// Protect memories matching this pattern from dreams (`/team/**`; repeatable).
    #[arg(long, value_name = "GLOB")]
    pub protect: Vec<String>,
    /// Stop protecting this pattern (repeatable).
    #[arg(long, value_name = "GLOB")]
    pub unprotect: Vec<String>,
    /// Dreams end as proposals: on or off.
    #[arg(long, value_name = "on|off")]
    pub review: Option<String>,
    /// Memory content written directly that holds a secret: refused (the default) or
    /// allowed as written.
    #[arg(long, value_name = "refuse|allow")]
    pub secrets: Option<String>,
    /// Add a memory test: some memory must contain TEXT (repeatable).
    #[arg(long, value_name = "TEXT")]
    pub must_contain: Vec<String>,
    /// Add a memory test: no memory may contain TEXT (repeatable).
    #[arg(long, value_name = "TEXT")]
    pub must_not_contain: Vec<String>,
    /// Add a memory test: searching QUERY finds an entry containing EXPECT in the top 5
    /// (`QUERY=>EXPECT`; repeatable).
    #[arg(long, value_name = "QUERY=>EXPECT")]
    pub recall: Vec<String>,
    /// Remove every memory test first.
    #[arg(long)]
    pub clear_tests: bool,
    /// `reverie worker` dreams the store once this many sessions no dream has read arrived
    /// (`off`: never by itself).
    #[arg(long, value_name = "N|off")]
    pub after_sessions: Option<String>,
    /// ... or at the times of this cron pattern (five fields, UTC: `0 3 * * *`) when a
    /// session no dream has read waits (`off`: no pattern).
    #[arg(long, value_name = "PATTERN|off")]
    pub cron: Option<String>,
    /// ... and in both cases at least this many seconds after its last dream (86400: a day).
    #[arg(long, value_name = "SECS")]
    pub min_interval: Option<u64>,
    /// The curator the store's dreams use when they name none (`reverie worker`, `reverie
    /// dream` without --model): a model name as `reverie dream --model` takes, or `default`
    /// for the config file's.
    #[arg(long, value_name = "NAME|default")]
    pub model: Option<String>,
    /// Most input tokens one model dream may send (`default`: 2,000,000).
    #[arg(long, value_name = "N|default")]
    pub max_input_tokens: Option<String>,
    /// Most output tokens one model dream may receive (`default`: 200,000).
    #[arg(long, value_name = "N|default")]
    pub max_output_tokens: Option<String>,
    /// Most one model dream may cost in US dollars, where the model's prices are known
    /// (`off`: no ceiling).
    #[arg(long, value_name = "USD|off")]
    pub max_cost_usd: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum EntriesCmd {
    /// A store's entries with their kind, state and counters.
    Ls {
        #[command(flatten)]
        store: StoreArg,
        /// live, archived or superseded.
        #[arg(long)]
        state: Option<String>,
        /// Only entries of memories at or below this path.
        #[arg(long)]
        path: Option<String>,
    },
    /// One entry: its text, provenance and counters.
    Show {
        #[command(flatten)]
        store: StoreArg,
        entry: String,
    },
    /// Pin an entry: dreams leave it byte-identical.
    Pin {
        #[command(flatten)]
        store: StoreArg,
        entry: String,
    },
    /// Unpin an entry.
    Unpin {
        #[command(flatten)]
        store: StoreArg,
        entry: String,
    },
    /// Put an archived or superseded entry back into its memory.
    Restore {
        #[command(flatten)]
        store: StoreArg,
        entry: String,
    },
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Name of the demo store (a fresh one each run).
    #[arg(long, default_value = "demo")]
    pub name: String,
    /// End as a proposal and print it, instead of applying the dream.
    #[arg(long)]
    pub review: bool,
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
    #[arg(long, requires = "outcome", allow_hyphen_values = true)]
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
        #[arg(long, allow_hyphen_values = true)]
        note: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum StoreCmd {
    /// Create a memory store.
    Create {
        name: String,
        #[arg(long, default_value = "", allow_hyphen_values = true)]
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
        #[arg(long, allow_hyphen_values = true)]
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
pub struct RecallArgs {
    #[command(flatten)]
    pub store: StoreArg,
    /// What to search for.
    #[arg(required = true, num_args = 1.., value_name = "QUERY")]
    pub query: Vec<String>,
    /// Return at most this many entries (1 to 100).
    #[arg(long, short = 'n', default_value_t = reverie_core::search::DEFAULT_RECALL_LIMIT)]
    pub limit: usize,
    /// Only entries of memories under this path prefix (ending in /).
    #[arg(long, value_name = "PREFIX")]
    pub prefix: Option<String>,
    /// Only entries whose text changed at or after this date (YYYY-MM-DD or RFC 3339).
    #[arg(long, value_name = "DATE")]
    pub since: Option<String>,
    /// The session the results are served in, so that the next dream counts them as helpful
    /// or harmful by its outcome.
    #[arg(long, value_name = "SESSION_ID")]
    pub session: Option<String>,
    /// Only look: do not count the results as served.
    #[arg(long, conflicts_with = "session")]
    pub no_serve: bool,
}

#[derive(Debug, Args)]
pub struct RememberArgs {
    #[command(flatten)]
    pub store: StoreArg,
    /// The note (after `--` when it starts with `-`: `remember -s notes -- "- a list item"`).
    #[arg(required = true, num_args = 1.., value_name = "TEXT")]
    pub text: Vec<String>,
    /// The memory to append it to.
    #[arg(long, default_value = reverie_server::remember::DEFAULT_PATH)]
    pub path: String,
}

#[derive(Debug, Args)]
pub struct McpArgs {
    /// The store the tools work on unless a call names another, by id or by name.
    #[arg(
        long,
        short = 's',
        env = "REVERIE_STORE",
        required_unless_present = "claude_code"
    )]
    pub store: Option<String>,
    /// The store of the Claude Code project this folder belongs to, keyed as the hooks key it
    /// (made on first use); how `claude-code install` registers the server.
    #[arg(long)]
    pub claude_code: bool,
}

#[derive(Debug, Args)]
pub struct ContextArgs {
    #[command(flatten)]
    pub store: StoreArg,
    /// What the session is about: picks the glossary entries and the relevant entries.
    #[arg(long, short = 'q', allow_hyphen_values = true)]
    pub query: Option<String>,
    /// The most tokens the context may take (o200k tokens times the safety factor).
    #[arg(long, default_value_t = reverie_core::context::DEFAULT_BUDGET)]
    pub budget: usize,
    /// o200k counts are multiplied by this (no exact offline tokenizer exists for current
    /// Claude models; o200k is a close stand-in).
    #[arg(long, default_value_t = reverie_core::context::DEFAULT_SAFETY)]
    pub safety: f64,
    /// The session the context is served in (see `recall --session`).
    #[arg(long, value_name = "SESSION_ID")]
    pub session: Option<String>,
    /// Only look: do not count the entries shown as served.
    #[arg(long, conflicts_with = "session")]
    pub no_serve: bool,
}

#[derive(Debug, Args)]
pub struct PutArgs {
    #[command(flatten)]
    pub store: StoreArg,
    /// The memory's path, e.g. /projects/foo/notes.md.
    pub path: String,
    /// The content (otherwise --file, otherwise standard input). It may start with `-` (a
    /// list item): `--content "- build with cargo build --locked"`.
    #[arg(long, conflicts_with = "file", allow_hyphen_values = true)]
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

//! `reverie`, the command line. Thin by design: it parses arguments, opens the store the
//! database URL names, calls the library, renders the result as text or JSON, and decides the
//! exit code — all error-to-exit-code mapping happens in [`exit_code`].

mod cli;
mod commands;
mod context;
mod output;

use clap::Parser;
use reverie_core::ErrorType;

use crate::cli::{Cli, Cmd};
use crate::context::Ctx;

// Reading a store allocates per row and per value (the driver's copies, decoded strings, JSON
// fields), and glibc's allocator spent about a third of a drift report's time in malloc, free
// and consolidation; mimalloc's thread-local free lists take most of that away. Its `override`
// feature (Cargo.toml) hands it C's malloc too: the bundled SQLite's, which allocates a copy of
// every value the driver reads, on the driver's own thread.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Exit codes, documented in the README.
pub mod exit {
    /// Storage or I/O failure.
    pub const FAILURE: i32 = 1;
    /// Invalid input (also clap's usage errors).
    pub const INVALID: i32 = 2;
    /// The store, memory or version does not exist.
    pub const NOT_FOUND: i32 = 3;
    /// A conflict: failed precondition, taken path, archived store.
    pub const CONFLICT: i32 = 4;
    /// The command ran but reports a problem: the memory tool answered with an error, or a
    /// store check found broken invariants.
    pub const REPORTED: i32 = 5;
}

fn exit_code(err: &anyhow::Error) -> i32 {
    match err
        .downcast_ref::<reverie_core::Error>()
        .map(|e| e.error_type())
    {
        Some(ErrorType::InvalidRequest) => exit::INVALID,
        Some(ErrorType::NotFound) => exit::NOT_FOUND,
        Some(
            ErrorType::MemoryPreconditionFailed
            | ErrorType::MemoryPathConflict
            | ErrorType::Conflict,
        ) => exit::CONFLICT,
        _ => exit::FAILURE,
    }
}

fn main() {
    // mimalloc asks for transparent huge pages on its arenas, and the kernel then zeroes 2 MiB
    // at every first touch: a third of `reverie ingest`'s writer thread went to faulting them
    // in, and its peak memory was 170 MB where 4 KiB pages keep it under 90. Processes here
    // are short or hold small heaps; they gain nothing from huge pages.
    #[cfg(target_os = "linux")]
    let _ = rustix::thread::disable_transparent_huge_pages(true);
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_env("REVERIE_LOG"))
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let json = cli.json;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build();
    let code = match runtime
        .map_err(anyhow::Error::from)
        .and_then(|rt| rt.block_on(run(cli)))
    {
        Ok(code) => code,
        Err(err) => {
            if json {
                let body = match err.downcast_ref::<reverie_core::Error>() {
                    Some(e) => e.to_body(),
                    None => {
                        serde_json::json!({"type": "error", "error": {"type": "api_error", "message": format!("{err:#}")}})
                    }
                };
                output::emit(&serde_json::to_string_pretty(&body).expect("json values serialize"));
            }
            eprintln!("error: {err:#}");
            exit_code(&err)
        }
    };
    std::process::exit(code);
}

async fn run(cli: Cli) -> anyhow::Result<i32> {
    // Benchmarks make their own scratch databases.
    if let Cmd::Bench(cli::BenchCmd::Dream(a)) = cli.command {
        return commands::bench::dream(a, cli.json).await;
    }
    if let Cmd::Bench(cli::BenchCmd::Curation(a)) = cli.command {
        return commands::curation::run(a, cli.json).await;
    }
    if let Cmd::Bench(cli::BenchCmd::Locomo(a)) = cli.command {
        return commands::locomo::run(a, cli.json).await;
    }
    if let Cmd::Bench(cli::BenchCmd::Recall(a)) = cli.command {
        return commands::bench_serve::recall(a, cli.database, cli.json).await;
    }
    if let Cmd::Bench(cli::BenchCmd::Curve(a)) = cli.command {
        return commands::bench_curve::run(a, cli.json).await;
    }
    if let Cmd::Bench(cli::BenchCmd::Hooks(a)) = cli.command {
        return commands::bench_hooks::run(a, cli.json).await;
    }
    if let Cmd::Bench(cli::BenchCmd::Ui(a)) = cli.command {
        return commands::bench_ui::run(a, cli.json).await;
    }
    if let Cmd::Bench(cli::BenchCmd::Ingest(a)) = cli.command {
        return commands::bench_ingest::run(a, cli.database, cli.json).await;
    }
    if let Cmd::Bench(cli::BenchCmd::Scale(a)) = cli.command {
        return commands::bench_scale::run(a, cli.database, cli.json).await;
    }
    if let Cmd::Bench(cli::BenchCmd::ModelInput(a)) = cli.command {
        return commands::bench_tokens::model_input(a, cli.json).await;
    }
    if let Cmd::Bench(cli::BenchCmd::Drift(a)) = cli.command {
        return commands::bench::drift(a, cli.json).await;
    }
    if let Cmd::Config(cmd) = cli.command {
        return commands::model::config(cmd, cli.json);
    }
    if let Cmd::ClaudeCode(cmd) = cli.command {
        return commands::claude_code::run(cmd, cli.database.as_deref(), cli.json).await;
    }
    let ctx = Ctx::open(&cli).await?;
    match cli.command {
        Cmd::Store(cmd) => commands::store::run(&ctx, cmd).await,
        Cmd::Put(a) => commands::memory::put(&ctx, a).await,
        Cmd::Get(a) => commands::memory::get(&ctx, a).await,
        Cmd::Ls(a) => commands::memory::ls(&ctx, a).await,
        Cmd::Mv(a) => commands::memory::mv(&ctx, a).await,
        Cmd::Rm(a) => commands::memory::rm(&ctx, a).await,
        Cmd::Log(a) => commands::history::log(&ctx, a).await,
        Cmd::Diff(a) => commands::history::diff(&ctx, a).await,
        Cmd::Restore(a) => commands::history::restore(&ctx, a).await,
        Cmd::Redact(a) => commands::history::redact(&ctx, a).await,
        Cmd::MemoryTool(a) => commands::tool::run(&ctx, a).await,
        Cmd::Ingest(a) => commands::sessions::ingest(&ctx, a).await,
        Cmd::Sessions(cmd) => commands::sessions::run(&ctx, cmd).await,
        Cmd::Tour(a) => commands::tour::run(&ctx, a).await,
        Cmd::Dream(a) => commands::dream::dream(&ctx, a).await,
        Cmd::Dreams(cmd) => commands::dream::run(&ctx, cmd).await,
        Cmd::Drift(a) => commands::drift::run(&ctx, a).await,
        Cmd::Curve(a) => commands::curve::run(&ctx, a).await,
        Cmd::Ceiling(a) => commands::curve::ceiling(&ctx, a).await,
        Cmd::Policy(cmd) => commands::policy::run(&ctx, cmd).await,
        Cmd::Keys(cmd) => commands::server::keys(&ctx, cmd).await,
        Cmd::Entries(cmd) => commands::policy::entries(&ctx, cmd).await,
        Cmd::Recall(a) => commands::serve::recall(&ctx, a).await,
        Cmd::Context(a) => commands::serve::context(&ctx, a).await,
        Cmd::Remember(a) => commands::serve::remember(&ctx, a).await,
        Cmd::Mcp(a) => commands::serve::mcp(&ctx, a).await,
        Cmd::Serve(a) => commands::server::serve(&ctx, a).await,
        Cmd::Worker(a) => commands::server::worker(&ctx, a).await,
        Cmd::Demo(a) => commands::demo::run(&ctx, a).await,
        Cmd::Bench(_) | Cmd::Config(_) | Cmd::ClaudeCode(_) => {
            unreachable!("handled before opening a database")
        }
    }
}

//! `reverie memory-tool`: one `memory_20250818` command, or a stream of them with `--batch`.

use std::io::BufRead;

use anyhow::Result;
use reverie_core::Actor;
use reverie_core::memtool::Command;
use reverie_store::{Store, ToolOutcome};

use crate::cli::MemoryToolArgs;
use crate::context::Ctx;
use crate::exit;
use crate::output::{emit, emit_raw, json};

pub async fn run(ctx: &Ctx, a: MemoryToolArgs) -> Result<i32> {
    let st = ctx.store_ref(&a.store.store).await?;
    if !a.batch {
        let command = Command::parse(a.command.as_deref().unwrap_or_default())?;
        let out = run_command(ctx.store.as_ref(), &ctx.actor, &st.id, &command).await?;
        if ctx.json {
            json(&out);
        } else {
            emit_raw(&out.content);
            emit("");
        }
        return Ok(if out.is_error { exit::REPORTED } else { 0 });
    }
    // One JSON command per line in, one JSON result per line out; a bad line gets an error
    // result of its own and the stream goes on, and the exit status says that one failed.
    let mut failed = 0_usize;
    for line in std::io::stdin().lock().lines() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let out = match Command::parse(&line) {
            Ok(command) => run_command(ctx.store.as_ref(), &ctx.actor, &st.id, &command).await?,
            Err(e) => ToolOutcome {
                is_error: true,
                content: e.to_string(),
                revision: None,
            },
        };
        failed += usize::from(out.is_error);
        emit(&serde_json::to_string(&out).expect("outcomes serialize"));
    }
    if failed > 0 {
        eprintln!(
            "reverie: {} of the batch answered with an error",
            reverie_core::counted(failed as i64, "command")
        );
        return Ok(exit::REPORTED);
    }
    Ok(0)
}

/// One command, refused like any bad command when it would write a secret.
pub(crate) async fn run_command(
    store: &dyn Store,
    actor: &Actor,
    store_id: &str,
    command: &Command,
) -> Result<ToolOutcome> {
    Ok(reverie_ingest::redact::run_memory_tool(store, store_id, command, actor).await?)
}

//! `reverie claude-code …`: Claude Code wired in. `settings.rs` registers reverie's hooks in
//! Claude Code's settings; `hook.rs` is what those hooks run (sessions in, memory out);
//! `project.rs` keys a project's store by the project's identity, not its path; `status.rs`
//! says what is installed and how the projects' stores are doing; `sync.rs` sweeps the
//! transcripts no hook brought in.

pub mod export;
pub mod folder;
pub mod hook;
pub mod project;
pub mod settings;
pub mod status;
pub mod sync;

use anyhow::Result;

use crate::cli::ClaudeCodeCmd;

pub async fn run(cmd: ClaudeCodeCmd, database: Option<&str>, json: bool) -> Result<i32> {
    if matches!(cmd, ClaudeCodeCmd::Install(_)) {
        refuse_password(database)?;
    }
    match cmd {
        ClaudeCodeCmd::Install(a) => {
            settings::install(&a, &hook_command(database), &mcp_command(database), json)
        }
        ClaudeCodeCmd::Uninstall(a) => settings::uninstall(&a, &hook_command(database), json),
        ClaudeCodeCmd::Hook(a) => hook::run(database, a.background.as_deref()).await,
        ClaudeCodeCmd::Sync(a) => sync::run(database, &a, json).await,
        ClaudeCodeCmd::Status => status::run(database, &hook_command(database), json).await,
    }
}

/// A database URL holding a password is not written into Claude Code's settings (a project's
/// settings are often committed, and the backup lies beside them).
fn refuse_password(database: Option<&str>) -> Result<()> {
    let Some(url) = database.filter(|d| d.contains("://")) else {
        return Ok(());
    };
    let authority = url.split("://").nth(1).unwrap_or("");
    let userinfo = authority.split('/').next().unwrap_or("");
    if let Some((user, _host)) = userinfo.rsplit_once('@')
        && user.contains(':')
    {
        anyhow::bail!(reverie_core::Error::invalid(
            "database",
            "the URL holds a password, which the hooks' command would write into Claude Code's \
             settings: give the URL without it and keep the password in ~/.pgpass (or PGPASSWORD \
             in the environment Claude Code runs in)"
        ));
    }
    Ok(())
}

/// Who changed a memory folder when no Claude Code transcript says: the user running reverie.
pub fn folder_actor() -> reverie_core::Actor {
    let user = std::env::var("USER")
        .ok()
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| "local".into());
    reverie_core::Actor::User {
        user_id: format!("user_{user}"),
    }
}

/// `s` quoted for `sh` when it needs to be.
fn quoted(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-+:=@%,".contains(c));
    if plain {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// This executable, by its absolute path.
fn exe() -> String {
    std::env::current_exe()
        .ok()
        .and_then(|p| std::fs::canonicalize(&p).ok().or(Some(p)))
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| "reverie".into())
}

/// The database as the hooks and the MCP server name it: a file path made absolute (they run
/// in each project's folder).
fn absolute_database(database: Option<&str>) -> Option<String> {
    let db = database.filter(|d| !d.is_empty())?;
    Some(if db.contains("://") {
        db.to_string()
    } else {
        std::path::absolute(db)
            .map(|p| p.display().to_string())
            .unwrap_or_else(|_| db.to_string())
    })
}

/// The MCP server Claude Code starts: `reverie [--database DB] mcp --claude-code`, the tools
/// on the store of the project Claude Code runs in.
pub fn mcp_command(database: Option<&str>) -> Vec<String> {
    let mut cmd = vec![exe()];
    if let Some(db) = absolute_database(database) {
        cmd.push("--database".into());
        cmd.push(db);
    }
    cmd.extend(["mcp".to_string(), "--claude-code".to_string()]);
    cmd
}

/// The command Claude Code runs for reverie's hooks: this executable (by its absolute path:
/// hooks do not run with the user's shell `PATH`), the database when one was named, and
/// `claude-code hook`.
pub fn hook_command(database: Option<&str>) -> String {
    let mut cmd = quoted(&exe());
    if let Some(db) = absolute_database(database) {
        cmd.push_str(" --database ");
        cmd.push_str(&quoted(&db));
    }
    cmd.push_str(" claude-code hook");
    cmd
}

//! The project's commands: what the agent ran that worked, with what it said each was for —
//! the build, test, lint, deploy and tool invocations a later session would otherwise have to
//! rediscover (`npx vitest run`, `bd update <id> --status in_progress`, `gh run view <id>
//! --log-failed`).
//!
//! Only commands that worked count, and only those that do something: looks (`ls`, `cat`,
//! `git status`), probes (`python -c`), file shuffling (`rm`, `mkdir`) and git's everyday
//! commands are left out (git's lessons come from its errors). Commands are grouped by
//! program; a program with many subcommands (`bun`, `mix`) is one entry per subcommand. Each
//! entry shows at most a few distinct forms, generalized (branch names, ids, the project's
//! folder), and the agent's own descriptions of them.

use std::collections::{BTreeMap, BTreeSet};

use reverie_core::curation::EntryKind;

use super::calls::{Call, Status, calls, is_read_only};
use super::util::{Ctx, cut};
use crate::candidate::Candidate;
use crate::signature::Simple;

/// Where the project's commands go.
pub(crate) const COMMANDS: &str = "/commands.md";
/// Most distinct forms of one command shown.
const MAX_FORMS: usize = 2;
/// Most descriptions of one command shown.
const MAX_DESCRIPTIONS: usize = 2;
/// A program with more subcommands than this gets one entry per subcommand.
const MAX_KEYS_PER_ENTRY: usize = 10;
/// Most characters of one command form.
const MAX_FORM: usize = 120;

/// What is known of one command (a key: program and subcommand).
#[derive(Debug, Default)]
struct Seen {
    /// Form → times run.
    forms: BTreeMap<String, usize>,
    descriptions: Vec<String>,
    background: bool,
    runs: usize,
    /// Evidence: (session index, event index, quote).
    evidence: Vec<(usize, usize, String)>,
}

/// Programs that are not the project's: everyday git, file shuffling, process control.
fn is_generic(program: &str) -> bool {
    matches!(
        program,
        "git"
            | "rm"
            | "mv"
            | "cp"
            | "mkdir"
            | "touch"
            | "chmod"
            | "chown"
            | "ln"
            | "kill"
            | "pkill"
            | "killall"
            | "open"
            | "xdg-open"
            | "unzip"
            | "tar"
            | "zip"
            | "curl"
            | "wget"
            | "rmdir"
            | "install"
            | "trash"
            | "code"
            | "claude"
            | "tmux"
            | "osascript"
            | "pbcopy"
            | "say"
            | "yes"
            | "sed"
            | "awk"
            | "perl"
    )
}

/// Package managers, runners and language toolchains: each of their subcommands (a script,
/// a task) is a thing of its own, where a dedicated tool's subcommands (`bd`, `gh`) are one
/// workflow.
fn is_toolchain(program: &str) -> bool {
    matches!(
        program,
        "npm"
            | "pnpm"
            | "yarn"
            | "bun"
            | "npx"
            | "bunx"
            | "pnpx"
            | "deno"
            | "node"
            | "mix"
            | "cargo"
            | "go"
            | "python"
            | "python3"
            | "uv"
            | "uvx"
            | "poetry"
            | "pip"
            | "make"
            | "just"
            | "gradle"
            | "gradlew"
            | "mvn"
            | "dotnet"
            | "rake"
            | "bundle"
            | "composer"
            | "php"
            | "ruby"
            | "turbo"
            | "nx"
            | "docker"
    )
}

/// The commands of every session, as candidates.
pub(crate) fn extract(ctxs: &[Ctx]) -> Vec<Candidate> {
    let mut seen: BTreeMap<String, Seen> = BTreeMap::new();
    for (si, ctx) in ctxs.iter().enumerate() {
        let calls = calls(ctx);
        // Files the session wrote whole: running one is trying out this session's work
        // (`./hello.sh`), not a command of the project.
        let written: BTreeSet<&str> = calls
            .iter()
            .filter(|c| {
                c.tool == "Write"
                    || c.output.starts_with("File created successfully")
                    || super::calls::is_edit(c.tool) && c.field("old_string") == Some("")
            })
            .filter_map(|c| c.file())
            .map(|f| f.rsplit('/').next().unwrap_or(f))
            .collect();
        for c in calls.iter() {
            let background = c
                .input
                .and_then(|i| i.get("run_in_background"))
                .and_then(serde_json::Value::as_bool)
                .unwrap_or(false);
            let worked = c.status == Status::Ok || c.status == Status::Pending && background;
            if !c.is_shell() || !worked {
                continue;
            }
            for s in &c.simples {
                let runs_written = s
                    .words
                    .iter()
                    .any(|w| written.contains(w.rsplit('/').next().unwrap_or(w)));
                if runs_written {
                    continue;
                }
                let Some((key, form)) = form(ctx, s) else {
                    continue;
                };
                let e = seen.entry(key).or_default();
                *e.forms.entry(form).or_default() += 1;
                e.runs += 1;
                e.background |= background;
                if let Some(d) = describe(ctx, c)
                    && !e.descriptions.contains(&d)
                {
                    e.descriptions.push(d);
                }
                if e.evidence.len() < 8 {
                    e.evidence
                        .push((si, c.at, c.command.clone().unwrap_or_default()));
                }
            }
        }
    }
    // Group by program; split a program with many subcommands.
    let mut by_program: BTreeMap<String, Vec<(String, Seen)>> = BTreeMap::new();
    for (key, s) in seen {
        let program = key.split_whitespace().next().unwrap_or(&key).to_string();
        by_program.entry(program).or_default().push((key, s));
    }
    let mut out = Vec::new();
    for (program, keys) in by_program {
        if keys.len() > MAX_KEYS_PER_ENTRY || is_toolchain(&program) {
            for (key, s) in keys {
                out.extend(entry(ctxs, &program, &[(key, s)]));
            }
        } else {
            out.extend(entry(ctxs, &program, &keys));
        }
    }
    out
}

/// The agent's description of a call, trimmed.
fn describe(ctx: &Ctx, c: &Call) -> Option<String> {
    let d = c.description?.trim();
    let d = &ctx.volatile.generalize(d);
    (d.len() >= 4 && !d.contains("[REDACTED")).then(|| cut(d, 80))
}

/// A simple command's key and its generalized form, when it is one of the project's commands.
fn form(ctx: &Ctx, s: &Simple) -> Option<(String, String)> {
    let program = s.program()?;
    // Project tools' looks (`gh run view`, `docker logs`) are knowledge; a shell's are not.
    let tool_look = matches!(program, "gh" | "docker" | "kubectl" | "systemctl" | "glab");
    if is_read_only(s) && !tool_look
        || s.program_words().len() <= 3
            && s.program_words().iter().any(|w| {
                matches!(
                    w.as_str(),
                    "--version" | "-v" | "--help" | "-h" | "version" | "-V"
                )
            })
    {
        return None;
    }
    if is_generic(program) || program.starts_with('-') || program.contains('=') {
        return None;
    }
    let key = s.key()?;
    let mut words: Vec<String> = Vec::new();
    for w in s.program_words() {
        let w = ctx.volatile.generalize(w);
        words.push(generalize_word(&w));
    }
    let mut form = words.join(" ");
    if let Some(cwd) = &s.cwd {
        form = format!("cd {} && {form}", ctx.volatile.generalize(cwd));
    }
    if form.contains("[REDACTED") || form.chars().count() > MAX_FORM || form.contains('\n') {
        return None;
    }
    Some((key, form))
}

/// A word with what changes between runs as a placeholder: long numbers and hex ids as
/// `<id>`, a quoted message as `"…"`.
fn generalize_word(w: &str) -> String {
    let digits = w.chars().filter(char::is_ascii_digit).count();
    let hexish = w.len() >= 7 && w.chars().all(|c| c.is_ascii_hexdigit()) && digits > 0;
    if (digits >= 5 && w.chars().all(|c| c.is_ascii_digit())) || hexish {
        return "<id>".into();
    }
    if w.contains(char::is_whitespace) {
        return if w.chars().count() <= 40 {
            format!("\"{w}\"")
        } else {
            "\"…\"".into()
        };
    }
    w.to_string()
}

/// One entry for the commands of one program.
fn entry(ctxs: &[Ctx], program: &str, keys: &[(String, Seen)]) -> Option<Candidate> {
    let mut parts = Vec::new();
    let mut evidence = Vec::new();
    let mut descriptions: BTreeSet<String> = BTreeSet::new();
    for (_, s) in keys {
        let mut forms: Vec<(&String, &usize)> = s.forms.iter().collect();
        // Most run first, then shortest.
        forms.sort_by(|a, b| {
            b.1.cmp(a.1)
                .then(a.0.len().cmp(&b.0.len()))
                .then(a.0.cmp(b.0))
        });
        let shown: Vec<String> = forms
            .iter()
            .take(MAX_FORMS)
            .map(|(f, _)| format!("`{}`", f.replace('`', "'")))
            .collect();
        let mut part = shown.join(" or ");
        let ds: Vec<&String> = s
            .descriptions
            .iter()
            .filter(|d| descriptions.insert(d.to_lowercase()))
            .take(MAX_DESCRIPTIONS)
            .collect();
        if !ds.is_empty() {
            part.push_str(&format!(
                " ({})",
                ds.iter().map(|d| d.as_str()).collect::<Vec<_>>().join("; ")
            ));
        }
        if s.background {
            part.push_str(" — run in the background");
        }
        parts.push(part);
        evidence.extend(s.evidence.iter().cloned());
    }
    if parts.is_empty() {
        return None;
    }
    let text = format!("{}.", parts.join("; "));
    // Evidence from the first session that ran it, as the candidate's session.
    let (first_session, ..) = evidence.first()?;
    let ctx = &ctxs[*first_session];
    let mut c = ctx.candidate(
        EntryKind::Fact,
        text,
        COMMANDS,
        vec![program.to_string()],
        &[],
        "commands the agent ran that worked",
    );
    let mut ev: Vec<reverie_core::curation::Evidence> = evidence
        .iter()
        .map(|(si, at, q)| ctxs[*si].evidence(*at, q))
        .collect();
    ev.sort();
    ev.dedup();
    c.at = evidence
        .iter()
        .filter_map(|(si, at, _)| ctxs[*si].at(&[*at]))
        .max();
    c.evidence = ev;
    Some(c)
}

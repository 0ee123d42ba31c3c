//! What the user said in ways the trigger-word extractors never see: the custom slash
//! commands they run (`/publish-session`, `/orchestrator …`) with what each expands to, and
//! the answers they wrote themselves to the agent's questions (AskUserQuestion) instead of
//! picking one of the offered options — the most instruction-dense text of a real session
//! (`"main was clean; fix the issues"`, asked whether to skip a failing pre-commit hook).

use std::collections::BTreeMap;
use std::sync::LazyLock;

use regex::Regex;
use reverie_core::curation::EntryKind;
use reverie_core::session::EventKind;
use serde_json::Value;

use super::calls::{Status, calls};
use super::util::{Ctx, INSTRUCTIONS, collapse, cut, sentences};
use crate::candidate::Candidate;

/// Claude Code's own commands: what they do is the harness's, not the project's.
const BUILT_IN: &[&str] = &[
    "add-dir",
    "agents",
    "bug",
    "clear",
    "compact",
    "config",
    "context",
    "cost",
    "doctor",
    "exit",
    "export",
    "help",
    "hooks",
    "ide",
    "init",
    "install-github-app",
    "login",
    "logout",
    "mcp",
    "memory",
    "model",
    "output-style",
    "permissions",
    "plugin",
    "pr-comments",
    "quit",
    "release-notes",
    "resume",
    "rewind",
    "review",
    "security-review",
    "status",
    "statusline",
    "terminal-setup",
    "todos",
    "upgrade",
    "usage",
    "vim",
    "fast",
    "skills",
    "tasks",
];

/// Slash commands and free-text answers of every session.
pub(crate) fn extract(ctxs: &[Ctx]) -> Vec<Candidate> {
    let mut commands: BTreeMap<String, Candidate> = BTreeMap::new();
    let mut out = Vec::new();
    for ctx in ctxs {
        for (name, c) in slash_commands(ctx) {
            commands.insert(name, c);
        }
        out.extend(answers(ctx));
    }
    out.extend(commands.into_values());
    out
}

/// `<command-name>/x</command-name>` (with its args), and the body it expanded to: the
/// harness's next user text.
fn slash_commands(ctx: &Ctx) -> Vec<(String, Candidate)> {
    static NAME: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"<command-name>/?([^<\s]+)</command-name>").expect("regex"));
    static ARGS: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"(?s)<command-args>(.*?)</command-args>").expect("regex"));
    let events = ctx.events();
    let mut out = Vec::new();
    for (i, e) in events.iter().enumerate() {
        if e.kind != EventKind::User || e.sidechain {
            continue;
        }
        let Some(text) = e.text.as_deref() else {
            continue;
        };
        let Some(name) = NAME.captures(text).map(|c| c[1].to_string()) else {
            continue;
        };
        if BUILT_IN.contains(&name.as_str()) {
            continue;
        }
        let args = ARGS
            .captures(text)
            .map(|c| collapse(c[1].trim()))
            .filter(|a| !a.is_empty());
        // The body: the next user text of the main thread, before the assistant answers.
        let body = events[i + 1..]
            .iter()
            .take_while(|n| n.kind != EventKind::Assistant && n.kind != EventKind::ToolUse)
            .find(|n| n.kind == EventKind::User && !n.sidechain)
            .and_then(|n| n.text.as_deref())
            // Local commands print output; prompt commands expand into a body.
            .filter(|b| !b.trim_start().starts_with('<') && !b.starts_with("Caveat"))
            .map(|b| summary_of(&ctx.volatile.generalize(b)))
            .unwrap_or_default();
        let mut said = format!("The user runs the custom command `/{name}`");
        if let Some(a) = &args {
            said.push_str(&format!(
                " (as in `/{name} {}`)",
                cut(a, 80).replace('`', "'")
            ));
        }
        // A command that expands to nothing says nothing of what the user wants.
        if body.is_empty() {
            continue;
        }
        said.push_str(&format!(": {body}"));
        if said.contains("[REDACTED") {
            continue;
        }
        out.push((
            name,
            ctx.candidate(
                EntryKind::Instruction,
                said,
                INSTRUCTIONS,
                vec!["Commands the user runs".into()],
                &[(i, text.to_string())],
                "a custom command the user runs, and what it asks for",
            ),
        ));
    }
    out
}

/// What a command's body asks for: its first sentences, and the first command it shows.
fn summary_of(body: &str) -> String {
    static FENCE: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"(?s)```\w*\n(.*?)```").expect("regex"));
    static UUID: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}").expect("regex")
    });
    let first: Vec<String> = sentences(body)
        .into_iter()
        .filter(|s| s.split_whitespace().count() >= 3)
        .take(2)
        .collect();
    let mut s = cut(&first.join(" "), 240);
    if let Some(c) = FENCE.captures(body) {
        let cmd = collapse(c[1].lines().next().unwrap_or("").trim());
        if !cmd.is_empty() {
            s.push_str(&format!(
                " `{}`",
                cut(&UUID.replace_all(&cmd, "<session-id>"), 200)
            ));
        }
    }
    s.trim().to_string()
}

/// Answers to the agent's questions that the user wrote instead of picking an option.
fn answers(ctx: &Ctx) -> Vec<Candidate> {
    static PAIR: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r#"(?s)"([^"]+)"="([^"]*)""#).expect("regex"));
    let mut out = Vec::new();
    for c in calls(ctx) {
        if !c.tool.ends_with("AskUserQuestion") || c.status != Status::Ok {
            continue;
        }
        let Some(r) = c.result else { continue };
        let questions: Vec<(String, Vec<String>)> = c
            .input
            .and_then(|i| i.get("questions"))
            .and_then(Value::as_array)
            .map(|qs| {
                qs.iter()
                    .map(|q| {
                        let text = q.get("question").and_then(Value::as_str).unwrap_or("");
                        let options = q
                            .get("options")
                            .and_then(Value::as_array)
                            .map(|os| {
                                os.iter()
                                    .filter_map(|o| {
                                        o.get("label").and_then(Value::as_str).or(o.as_str())
                                    })
                                    .map(str::to_string)
                                    .collect()
                            })
                            .unwrap_or_default();
                        (text.to_string(), options)
                    })
                    .collect()
            })
            .unwrap_or_default();
        for cap in PAIR.captures_iter(c.output) {
            let (q, a) = (cap[1].trim(), cap[2].trim());
            let Some((_, options)) = questions.iter().find(|(t, _)| t.trim() == q) else {
                continue;
            };
            let picked = options
                .iter()
                .any(|o| o.trim().eq_ignore_ascii_case(a) || a.starts_with(o.trim()));
            if picked || a.split_whitespace().count() < 2 {
                continue;
            }
            let text = format!(
                "Asked \"{}\" (options: {}), the user answered instead: \"{}\"",
                cut(&collapse(q), 200),
                options
                    .iter()
                    .map(|o| cut(o, 60))
                    .collect::<Vec<_>>()
                    .join("; "),
                cut(&collapse(a), 300)
            );
            if text.contains("[REDACTED") {
                continue;
            }
            out.push(ctx.candidate(
                EntryKind::Instruction,
                ctx.volatile.generalize(&text),
                INSTRUCTIONS,
                vec!["Decisions".into()],
                &[(r, a.to_string())],
                "the user's own answer to the agent's question",
            ));
        }
    }
    out
}

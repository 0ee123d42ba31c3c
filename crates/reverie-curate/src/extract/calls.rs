//! A session's tool calls, each with its result and what came of it: the unit the lesson,
//! command and feedback extractors read.

use std::sync::LazyLock;

use regex::Regex;
use reverie_core::session::EventKind;
use serde_json::Value;

use super::junk::is_rejection;
use super::util::Ctx;
use crate::signature::{self, Signature, Simple, is_shell};

/// How a call ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Status {
    Ok,
    Failed,
    /// The user rejected it or interrupted it.
    Rejected,
    /// Cancelled because a call beside it failed (`Sibling tool call errored`).
    Cascade,
    /// No result, or a background job whose result came later.
    Pending,
}

/// One tool call with what came of it.
#[derive(Debug)]
pub(crate) struct Call<'a> {
    /// The tool-use event's index.
    pub at: usize,
    /// The result event's index.
    pub result: Option<usize>,
    pub tool: &'a str,
    /// The conversation it belongs to: the main thread, or one subagent.
    pub thread: (bool, Option<&'a str>),
    pub input: Option<&'a Value>,
    /// For a shell tool: its command line, and the simple commands in it.
    pub command: Option<String>,
    pub simples: Vec<Simple>,
    /// What the agent said the call is for (Claude Code's `description`).
    pub description: Option<&'a str>,
    pub status: Status,
    /// The result's text.
    pub output: &'a str,
}

/// Output that plainly says a shell command failed.
static FAILED_OUTPUT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?m)^Exit code [1-9]\d*\b|^(?:error(?:\[E\d+\])?|fatal):\s|command not found|^npm ERR!|^Traceback \(most recent call last\)|test result: FAILED|\b[1-9]\d* (?:failed|failing)\b",
    )
    .expect("a valid regex")
});

impl<'a> Call<'a> {
    /// The file the call works on (`file_path`, `path`, `notebook_path`).
    pub fn file(&self) -> Option<&'a str> {
        let input = self.input?;
        ["file_path", "path", "notebook_path"]
            .iter()
            .find_map(|k| input.get(*k).and_then(Value::as_str))
    }

    /// A string field of the input.
    pub fn field(&self, key: &str) -> Option<&'a str> {
        self.input?.get(key).and_then(Value::as_str)
    }

    pub fn is_shell(&self) -> bool {
        is_shell(self.tool)
    }

    /// Whether every simple command of a shell call only looks (`ls`, `cat`, `git status`).
    pub fn is_read_only(&self) -> bool {
        self.is_shell() && self.simples.iter().all(is_read_only)
    }

    /// The keys of the simple commands it runs, those run by wrappers included.
    pub fn keys(&self) -> Vec<String> {
        let mut out = Vec::new();
        for s in &self.simples {
            out.extend(s.key());
            if let Some(inner) = s.inner() {
                out.extend(inner.key());
            }
        }
        out
    }

    /// The signature of a failed call.
    pub fn signature(&self, ctx: &Ctx) -> Signature {
        signature::of_call(self.tool, self.input, self.output, &ctx.volatile)
    }
}

/// How a call of `tool` ended, by its result event.
fn status(tool: &str, result: Option<&reverie_core::session::Event>) -> Status {
    let Some(result) = result else {
        return Status::Pending;
    };
    let output = result.text.as_deref().unwrap_or("");
    if is_rejection(output) || output.trim_start().starts_with("[Request interrupted") {
        Status::Rejected
    } else if output.contains("Sibling tool call errored") {
        Status::Cascade
    } else if output.starts_with("Command running in background with ID") {
        Status::Pending
    } else if result.is_error || is_shell(tool) && FAILED_OUTPUT.is_match(output) {
        Status::Failed
    } else {
        Status::Ok
    }
}

/// The failed calls of the session, in order: the tool-use event's index, its result's, and
/// the failure's signature. What [`calls`] marks failed, without parsing every other call's
/// command line: drift and the failure curve read every session's failures.
pub(crate) fn failed<'a>(ctx: &'a Ctx<'a>) -> impl Iterator<Item = (usize, usize, Signature)> + 'a {
    let events = ctx.events();
    events.iter().enumerate().filter_map(move |(at, e)| {
        if e.kind != EventKind::ToolUse {
            return None;
        }
        let tool = e.tool_name.as_deref().unwrap_or("");
        let r = ctx.result_of(at)?;
        if status(tool, Some(&events[r])) != Status::Failed {
            return None;
        }
        let output = events[r].text.as_deref().unwrap_or("");
        Some((
            at,
            r,
            signature::of_call(tool, e.tool_input.as_ref(), output, &ctx.volatile),
        ))
    })
}

/// Every tool call of the session, in order.
pub(crate) fn calls<'a>(ctx: &Ctx<'a>) -> Vec<Call<'a>> {
    let events = ctx.events();
    let mut out = Vec::new();
    for (at, e) in events.iter().enumerate() {
        if e.kind != EventKind::ToolUse {
            continue;
        }
        let tool = e.tool_name.as_deref().unwrap_or("");
        let result = ctx.result_of(at);
        let output = result.and_then(|r| events[r].text.as_deref()).unwrap_or("");
        let command = is_shell(tool)
            .then(|| e.tool_input.as_ref().and_then(signature::command_of))
            .flatten();
        let simples = command
            .as_deref()
            .map(signature::shell::parse)
            .unwrap_or_default();
        let status = status(tool, result.map(|r| &events[r]));
        out.push(Call {
            at,
            result,
            tool,
            thread: (e.sidechain, e.agent_id.as_deref()),
            input: e.tool_input.as_ref(),
            description: e
                .tool_input
                .as_ref()
                .and_then(|i| i.get("description"))
                .and_then(Value::as_str),
            command,
            simples,
            status,
            output,
        });
    }
    out
}

/// File-editing tools.
pub(crate) fn is_edit(tool: &str) -> bool {
    matches!(
        tool,
        "Edit"
            | "MultiEdit"
            | "Write"
            | "NotebookEdit"
            | "str_replace_based_edit_tool"
            | "apply_patch"
            | "write_file"
            | "edit_file"
    )
}

/// Whether a simple command only looks, never changes anything.
pub(crate) fn is_read_only(s: &Simple) -> bool {
    let w = s.program_words();
    let Some(program) = w.first().map(|p| signature::shell::base(p)) else {
        return true;
    };
    let sub = w.get(1).map_or("", String::as_str);
    match program {
        "ls" | "cat" | "head" | "tail" | "less" | "more" | "grep" | "egrep" | "rg" | "ag"
        | "find" | "fd" | "pwd" | "echo" | "printf" | "which" | "whereis" | "type" | "file"
        | "stat" | "wc" | "tree" | "du" | "df" | "env" | "printenv" | "sleep" | "true"
        | "false" | "date" | "whoami" | "id" | "uname" | "ps" | "diff" | "cmp" | "jq" | "sort"
        | "uniq" | "cut" | "lsof" | "netstat" | "ss" | "cd" | "export" | "source" | "set"
        | "wait" | "test" | "[" | "awk" | "xargs" | "realpath" | "basename" | "dirname"
        | "readlink" | "column" | "tr" | "tee" | "nl" | "od" | "xxd" | "hexdump" => true,
        "sed" => !w.iter().any(|t| t.starts_with("-i")),
        // An inline script is a probe: it looks at something and is thrown away.
        p if p.starts_with("python") || matches!(p, "node" | "ruby" | "perl" | "deno" | "bun") => {
            matches!(sub, "-c" | "-e" | "--eval" | "-p")
        }
        "git" => matches!(
            sub,
            "status"
                | "diff"
                | "log"
                | "show"
                | "branch"
                | "remote"
                | "rev-parse"
                | "blame"
                | "ls-files"
                | "describe"
                | "shortlog"
                | "reflog"
                | "check-ignore"
                | "config"
                | ""
        ),
        "gh" => matches!(
            w.get(2).map(String::as_str),
            Some("view" | "list" | "checks" | "diff" | "status")
        ),
        "docker" => matches!(sub, "ps" | "logs" | "inspect" | "images"),
        "kubectl" => matches!(sub, "get" | "describe" | "logs"),
        "systemctl" => sub == "status",
        _ => false,
    }
}

/// Whether two calls try to do the same thing: the same program (and subcommand) again, the
/// same tool on the same file, the same subcommand through another package manager
/// (`pnpm test` → `bun test`), or what the agent said they are for in nearly the same words.
pub(crate) fn same_intent(a: &Call, b: &Call, failed_key: Option<&str>) -> bool {
    if a.is_shell() != b.is_shell() {
        return false;
    }
    if !a.is_shell() {
        fn family(t: &str) -> &str {
            if is_edit(t) { "edit" } else { t }
        }
        if family(a.tool) != family(b.tool) {
            return false;
        }
        return match (a.file(), b.file()) {
            (Some(x), Some(y)) => x == y,
            (None, None) => true,
            _ => false,
        };
    }
    let bk = b.keys();
    if let Some(k) = failed_key {
        if bk.iter().any(|x| x == k) {
            return true;
        }
        let (pa, sa) = k.split_once(' ').unwrap_or((k, ""));
        if !sa.is_empty()
            && bk.iter().any(|x| {
                let (pb, sb) = x.split_once(' ').unwrap_or((x, ""));
                sb == sa && is_package_manager(pa) && is_package_manager(pb)
            })
        {
            return true;
        }
    }
    match (a.description, b.description) {
        (Some(da), Some(db)) => {
            let (ta, tb) = (desc_terms(da), desc_terms(db));
            let shared = ta.iter().filter(|t| tb.contains(t)).count();
            let union = ta.len() + tb.len() - shared;
            let retry = ["re-run", "rerun", "retry", "again"]
                .iter()
                .any(|w| db.to_lowercase().contains(w));
            let tests = |c: &Call, d: &str| {
                d.to_lowercase().contains("test") || c.keys().iter().any(|k| k.contains("test"))
            };
            (shared >= 2 && shared * 2 >= union) || retry && tests(a, da) && tests(b, db)
        }
        _ => false,
    }
}

fn is_package_manager(p: &str) -> bool {
    matches!(
        p,
        "npm"
            | "pnpm"
            | "yarn"
            | "bun"
            | "npx"
            | "bunx"
            | "pnpx"
            | "deno"
            | "uv"
            | "poetry"
            | "pip"
    )
}

/// The terms of a call's description.
fn desc_terms(d: &str) -> Vec<String> {
    let mut t = reverie_core::search::terms(d);
    t.sort();
    t.dedup();
    t
}

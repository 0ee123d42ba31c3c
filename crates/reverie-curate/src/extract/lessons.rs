//! Lessons: a tool error, then a later call of the same tool with the same or a similar input
//! (the same program, or the same file) that worked, in the same conversation (main thread or
//! one subagent). The lesson names the error by its signature — the first line of the output
//! that says what went wrong, volatile parts trimmed, codes kept — and what worked: the
//! commands run and the edits made in between, or the changed command itself.
//!
//! A call failed when its result is flagged as an error, or, for a shell command, when its
//! output plainly says so (a non-zero `Exit code`, `error:`, `command not found`, `Connection
//! refused`, `FAILED`). Calls the user rejected, the harness's own complaints
//! (`<tool_use_error>`) and errors never followed by a success are not lessons. A compile error
//! (`error[E0433]`, `error TS2304`) also counts as fixed when the next build gets past it and
//! fails later for another reason; any other error needs a success.

use std::collections::BTreeSet;
use std::sync::LazyLock;

use regex::Regex;
use reverie_core::curation::EntryKind;
use reverie_core::session::{Event, EventKind};
use serde_json::Value;

use super::junk::is_rejection;
use super::util::{Ctx, LESSONS, code, collapse, command_of, cut, is_memory_file};
use crate::candidate::Candidate;

/// Most steps between the error and the retry for the fix to be clear.
const MAX_STEPS: usize = 4;
/// Most characters of a command or an error signature in a lesson.
const MAX_SHOWN: usize = 160;

/// Shell tools: their input's `command` is a shell command.
fn is_shell(tool: &str) -> bool {
    matches!(
        tool,
        "Bash"
            | "bash"
            | "shell"
            | "Shell"
            | "local_shell"
            | "exec_command"
            | "run_shell_command"
            | "execute_command"
            | "BashOutput"
    )
}

/// File-editing tools.
fn is_edit(tool: &str) -> bool {
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

/// How a call ended.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Outcome {
    Ok,
    Failed(String),
    /// Rejected by the user, refused by the harness, or without a result.
    Ignored,
}

/// One tool call with what came of it.
#[derive(Debug)]
struct Call<'a> {
    /// The tool-use event's index.
    at: usize,
    result: Option<usize>,
    tool: &'a str,
    /// The conversation it belongs to: the main thread or one subagent.
    chain: (bool, Option<&'a str>),
    input: Option<&'a Value>,
    outcome: Outcome,
    /// For a shell command: what each of its simple commands runs ([`key`]).
    keys: Vec<String>,
    /// For a failed shell command: what its failing simple command runs, and whether the
    /// failure is a compile error of a build.
    failing: Option<(String, bool)>,
}

impl Call<'_> {
    fn command(&self) -> Option<String> {
        self.input.and_then(command_of)
    }

    fn file(&self) -> Option<&str> {
        let input = self.input?;
        ["file_path", "path", "notebook_path"]
            .iter()
            .find_map(|k| input.get(*k).and_then(Value::as_str))
    }
}

/// Lessons of one session.
pub(crate) fn extract(ctx: &Ctx) -> Vec<Candidate> {
    let calls = calls(ctx);
    let mut consumed = vec![false; calls.len()];
    let mut out = Vec::new();
    for i in 0..calls.len() {
        if consumed[i] || !matches!(calls[i].outcome, Outcome::Failed(_)) {
            continue;
        }
        let mut f = i;
        let mut lesson = None;
        for j in f + 1..calls.len() {
            if calls[j].chain != calls[f].chain || !same_target(&calls[f], &calls[j]) {
                continue;
            }
            let Outcome::Failed(first) = &calls[f].outcome else {
                break;
            };
            match &calls[j].outcome {
                Outcome::Ignored => continue,
                Outcome::Ok => {
                    lesson = Some(j);
                    break;
                }
                Outcome::Failed(again) if again == first => {
                    // The same failure again: the lesson, if any, starts from the last one.
                    consumed[f] = true;
                    f = j;
                }
                Outcome::Failed(_) => {
                    if got_past(ctx, &calls[j], first) {
                        lesson = Some(j);
                    }
                    break;
                }
            }
        }
        if let Some(j) = lesson
            && let Some(c) = lesson_of(ctx, &calls, f, j)
        {
            consumed[f] = true;
            out.push(c);
        }
    }
    out
}

/// Every tool call of the session, with its outcome.
fn calls<'a>(ctx: &Ctx<'a>) -> Vec<Call<'a>> {
    let events = ctx.events();
    let mut out = Vec::new();
    for (at, e) in events.iter().enumerate() {
        if e.kind != EventKind::ToolUse {
            continue;
        }
        let tool = e.tool_name.as_deref().unwrap_or("");
        let result = ctx.result_of(at);
        let outcome = match result.map(|r| &events[r]) {
            None => Outcome::Ignored,
            Some(r) => outcome(tool, r),
        };
        let command = is_shell(tool)
            .then(|| e.tool_input.as_ref().and_then(command_of))
            .flatten();
        let segs = command.as_deref().map(segments).unwrap_or_default();
        let keys = segs.iter().filter_map(|s| key(s)).collect();
        let failing = match &outcome {
            Outcome::Failed(sig) => main_segment(&segs, sig).and_then(|s| key(s)).map(|k| {
                let compile = compile_code(sig).is_some() && builds(&k);
                (k, compile)
            }),
            _ => None,
        };
        out.push(Call {
            at,
            result,
            tool,
            chain: (e.sidechain, e.agent_id.as_deref()),
            input: e.tool_input.as_ref(),
            outcome,
            keys,
            failing,
        });
    }
    out
}

/// Output that plainly says a shell command failed.
static FAILED_OUTPUT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?m)^Exit code [1-9]\d*\b|^(?:error(?:\[E\d+\])?|fatal):\s|command not found|Connection refused|\bFAILED\b|^npm ERR!|^Traceback \(most recent call last\)",
    )
    .expect("a valid regex")
});

fn outcome(tool: &str, result: &Event) -> Outcome {
    let text = result.text.as_deref().unwrap_or("");
    if is_rejection(text) || text.trim_start().starts_with("[Request interrupted") {
        return Outcome::Ignored;
    }
    if text.contains("<tool_use_error>") || text.contains("InputValidationError") {
        return Outcome::Ignored;
    }
    let failed = result.is_error || is_shell(tool) && FAILED_OUTPUT.is_match(text);
    if !failed {
        return Outcome::Ok;
    }
    match signature(text) {
        Some(s) => Outcome::Failed(s),
        None => Outcome::Ignored,
    }
}

/// Lines of build and test output that never say what went wrong.
static NOISE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)^\s*(?:exit code \d+|compiling\s|finished\s|running\s|running \d+ tests?|updating\s|downloading\s|downloaded\s|locking\s|adding\s|checking\s|blocking\s|fresh\s|>\s|\$\s|warning:|note:|help:|-->|\||=\s|\d+\s*\||failures:|---- .* ----$|stdout ----|test result: ok|error: test failed|error: could not compile|error: aborting due to|error: process didn't exit successfully|make: \*\*\*)",
    )
    .expect("a valid regex")
});
/// Lines that name an error outright.
static ERROR_LINE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)^(?:error(?:\[\w+\])?:|fatal:|[\w.]*(?:error|exception):|npm err!|e\s+\w+error)|:\s*error\s+TS\d+|error\[E\d+\]|\berror\s+TS\d+",
    )
    .expect("a valid regex")
});
/// Lines that say something failed.
static FAILURE_WORDS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)command not found|no such file|not found|refused|denied|cannot|can't|could not|couldn't|\bfailed\b|\bfailure\b|timed out|unable to|invalid|does not exist|doesn't exist|\bfatal\b|exception|traceback|not successful|unsuccessful|panic",
    )
    .expect("a valid regex")
});

/// The error signature of a tool's output: the first line that names an error; else the
/// message of a panic; else the first line that says something failed; else the first line
/// that is not build noise — trimmed of volatile parts.
pub(crate) fn signature(output: &str) -> Option<String> {
    let lines: Vec<&str> = output
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let useful = |l: &&str| !NOISE.is_match(l);
    let pick = lines
        .iter()
        .find(|l| useful(l) && ERROR_LINE.is_match(l))
        .copied()
        .or_else(|| {
            lines
                .iter()
                .position(|l| l.contains("panicked at"))
                .and_then(|p| {
                    let l = lines[p];
                    // `panicked at 'msg', src/x.rs` (older) or the message on the next line.
                    match l.find("panicked at '") {
                        Some(q) => Some(&l[q + "panicked at ".len()..]),
                        None => lines.get(p + 1).copied(),
                    }
                })
        })
        .or_else(|| {
            lines
                .iter()
                .find(|l| useful(l) && FAILURE_WORDS.is_match(l) && !l.contains(" 0 failed"))
                .copied()
        })
        .or_else(|| lines.iter().find(|l| useful(l)).copied())?;
    let s = trim_volatile(pick);
    (!s.is_empty()).then(|| cut(&s, MAX_SHOWN))
}

/// A signature without what changes from run to run: timestamps, durations, temporary paths,
/// build hashes, the shell's `line N:` prefix; a Rust `Debug` error struct shortened to its
/// message and code.
fn trim_volatile(line: &str) -> String {
    static SHELL: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"^(?:/\S*/)?(?:ba|z)?sh: (?:line \d+: )?").expect("regex"));
    static TIMESTAMP: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(
            r"\[?\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?\]?\s*",
        )
        .expect("regex")
    });
    static DURATION: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"\s*\(?\b(?:in\s+)?\d+(?:\.\d+)?\s?(?:ms|s|µs|us|ns)\)?(?:\W|$)")
            .expect("regex")
    });
    static TEMP: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"(?:/tmp|/var/folders|/private/var)/\S*").expect("regex"));
    static HASH: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"-[0-9a-f]{16}\b").expect("regex"));
    static MESSAGE: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r#"message: "((?:[^"\\]|\\.)*)""#).expect("regex"));
    static CODE: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r#"\bcode: "([^"]+)""#).expect("regex"));
    let mut s = SHELL.replace(line, "").into_owned();
    if let Some(m) = MESSAGE.captures(&s)
        && let Some(brace) = s.find(" {")
    {
        let head_end = s[..brace].rfind(": ").unwrap_or(0);
        let head = s[..head_end].trim();
        let msg = m[1].replace("\\\"", "\"");
        let code = CODE.captures(&s).map(|c| format!(" ({})", &c[1]));
        s = format!(
            "{}{msg}{}",
            if head.is_empty() {
                String::new()
            } else {
                format!("{head}: ")
            },
            code.unwrap_or_default()
        );
    }
    let s = TIMESTAMP.replace_all(&s, "");
    let s = TEMP.replace_all(&s, "/tmp/…");
    let s = HASH.replace_all(&s, "");
    let s = DURATION.replace_all(&s, |c: &regex::Captures| {
        let m = c.get(0).map_or("", |m| m.as_str());
        // keep the character after the duration that ended the match
        m.chars()
            .last()
            .filter(|ch| !ch.is_alphanumeric() && *ch != ')')
            .map_or(String::new(), |ch| ch.to_string())
    });
    collapse(s.trim_end_matches(':').trim())
}

/// A compile error's code (`E0433`, `TS2304`).
fn compile_code(signature: &str) -> Option<String> {
    static RE: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"error\[(E\d{4})\]|error (TS\d+)").expect("regex"));
    let c = RE.captures(signature)?;
    c.get(1).or(c.get(2)).map(|m| m.as_str().to_string())
}

/// Whether `later` got past `first`'s compile error: it failed for another reason, and its
/// output does not hold the error's code.
fn got_past(ctx: &Ctx, later: &Call, first: &str) -> bool {
    let Some(code) = compile_code(first) else {
        return false;
    };
    let text = later
        .result
        .and_then(|r| ctx.events()[r].text.as_deref())
        .unwrap_or("");
    !text.contains(&code)
}

/// Programs and subcommands that only look, never change anything.
fn is_read_only(tokens: &[String]) -> bool {
    let Some(program) = tokens.first().map(|p| base(p)) else {
        return true;
    };
    let sub = tokens.get(1).map_or("", String::as_str);
    match program {
        "ls" | "cat" | "head" | "tail" | "less" | "more" | "grep" | "egrep" | "rg" | "ag"
        | "find" | "fd" | "pwd" | "echo" | "printf" | "which" | "whereis" | "type" | "file"
        | "stat" | "wc" | "tree" | "du" | "df" | "env" | "printenv" | "sleep" | "true"
        | "false" | "date" | "whoami" | "id" | "uname" | "ps" | "diff" | "cmp" | "jq" | "sort"
        | "uniq" | "cut" | "curl" | "wget" | "ping" | "nc" | "lsof" | "netstat" | "ss"
        | "journalctl" | "cd" | "export" | "source" | "set" | "wait" | "test" | "[" => true,
        "sed" => !tokens.iter().any(|t| t.starts_with("-i")),
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
                | "fetch"
                | "stash"
                | "describe"
                | "tag"
                | ""
        ),
        "gh" => matches!(sub, "pr" | "run" | "issue" | "repo" | "api"),
        "cargo" => matches!(
            sub,
            "tree" | "metadata" | "search" | "--version" | "version"
        ),
        "docker" => matches!(sub, "ps" | "logs" | "inspect" | "images"),
        "kubectl" => matches!(sub, "get" | "describe" | "logs"),
        "systemctl" => sub == "status",
        _ => false,
    }
}

/// Programs that only set up the next one (`cd`, `sleep`…).
fn is_trivial(program: &str) -> bool {
    matches!(
        program,
        "cd" | "sleep"
            | "export"
            | "source"
            | "."
            | "set"
            | "true"
            | "echo"
            | "printf"
            | "pushd"
            | "popd"
            | "clear"
            | "wait"
    )
}

/// The last part of a program's path.
fn base(program: &str) -> &str {
    program.rsplit('/').next().unwrap_or(program)
}

/// A shell command cut into its simple commands (at `&&`, `||`, `;`, `|` and newlines
/// outside quotes), each as tokens (quotes kept), with shell keywords (`do`, `then`…)
/// removed.
fn segments(cmd: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    let mut chars = cmd.chars().peekable();
    let mut depth = 0usize;
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(q), c) if c == q => {
                quote = None;
                cur.push(c);
            }
            (Some(_), '\\') => {
                cur.push(c);
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
            }
            (Some(_), c) => cur.push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                cur.push(c);
            }
            (None, '(') => {
                depth += 1;
                cur.push(c);
            }
            (None, ')') => {
                depth = depth.saturating_sub(1);
                cur.push(c);
            }
            (None, '&' | '|') if depth == 0 => {
                if chars.peek() == Some(&c) {
                    chars.next();
                }
                if c == '&' && cur.ends_with('>') {
                    // `2>&1`
                    cur.push(c);
                    continue;
                }
                out.push(std::mem::take(&mut cur));
            }
            (None, ';' | '\n') if depth == 0 => out.push(std::mem::take(&mut cur)),
            (None, c) => cur.push(c),
        }
    }
    out.push(cur);
    out.into_iter()
        .map(|s| {
            let mut tokens: Vec<String> = s.split_whitespace().map(str::to_string).collect();
            while tokens.first().is_some_and(|t| {
                matches!(
                    t.as_str(),
                    "do" | "then" | "else" | "time" | "sudo" | "exec" | "nohup" | "command" | "{"
                )
            }) {
                tokens.remove(0);
            }
            tokens
        })
        .filter(|t| {
            !t.is_empty() && !matches!(t[0].as_str(), "done" | "fi" | "}" | "for" | "while" | "if")
        })
        .collect()
}

/// A simple command's tokens without leading environment assignments.
fn program_tokens(tokens: &[String]) -> &[String] {
    let skip = tokens
        .iter()
        .take_while(|t| {
            let name = t.split('=').next().unwrap_or("");
            t.contains('=')
                && !name.is_empty()
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        })
        .count();
    &tokens[skip..]
}

/// What a simple command runs: its program, and its subcommand when it has one (`cargo test`,
/// `sqlx migrate`, `docker compose`).
fn key(tokens: &[String]) -> Option<String> {
    let t = program_tokens(tokens);
    let program = base(t.first()?);
    if is_trivial(program) {
        return Some(program.to_string());
    }
    let sub = t
        .get(1)
        .filter(|s| {
            s.chars().next().is_some_and(|c| c.is_ascii_lowercase())
                && s.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        })
        .map_or("", String::as_str);
    Some(if sub.is_empty() {
        program.to_string()
    } else {
        format!("{program} {sub}")
    })
}

/// Cargo subcommands that build the code: a compile error of one is one of the others.
fn builds(key: &str) -> bool {
    matches!(
        key,
        "cargo build" | "cargo check" | "cargo test" | "cargo run" | "cargo clippy" | "cargo bench"
    )
}

/// The simple command of a failed shell call that failed: the one whose program the error
/// names, else the last one that is not set-up.
fn main_segment<'s>(segs: &'s [Vec<String>], signature: &str) -> Option<&'s Vec<String>> {
    let real: Vec<&Vec<String>> = segs
        .iter()
        .filter(|s| {
            program_tokens(s)
                .first()
                .is_some_and(|p| !is_trivial(base(p)))
        })
        .collect();
    real.iter()
        .find(|s| {
            program_tokens(s)
                .first()
                .is_some_and(|p| signature.contains(base(p)))
        })
        .or(real.last())
        .copied()
}

/// Whether `later` is the same tool on the same target as `failed`.
fn same_target(failed: &Call, later: &Call) -> bool {
    if is_shell(failed.tool) != is_shell(later.tool) {
        return false;
    }
    if is_shell(failed.tool) {
        let Some((k, compile)) = &failed.failing else {
            return false;
        };
        return later
            .keys
            .iter()
            .any(|kb| kb == k || *compile && builds(kb));
    }
    if failed.tool != later.tool {
        return false;
    }
    match (failed.file(), later.file()) {
        (Some(a), Some(b)) => a == b,
        (None, None) => failed.input == later.input,
        _ => false,
    }
}

/// The lesson of the failure `f` fixed by the time of `j`.
fn lesson_of(ctx: &Ctx, calls: &[Call], f: usize, j: usize) -> Option<Candidate> {
    let (failed, retry) = (&calls[f], &calls[j]);
    let Outcome::Failed(sig) = &failed.outcome else {
        return None;
    };
    let sig = ctx.relative_in(sig);
    // What was done in between.
    let mut steps: Vec<String> = Vec::new();
    let mut step_events: Vec<usize> = Vec::new();
    let mut edits: Vec<(String, Vec<String>)> = Vec::new();
    for c in &calls[f + 1..j] {
        if c.chain != failed.chain || c.outcome != Outcome::Ok {
            continue;
        }
        if is_shell(c.tool) {
            let Some(cmd) = c.command() else { continue };
            let segs = segments(&cmd);
            if segs.iter().all(|s| is_read_only(program_tokens(s))) {
                continue;
            }
            let doing: Vec<String> = segs
                .iter()
                .filter(|s| {
                    !is_read_only(program_tokens(s)) || s.first().is_some_and(|p| p == "cd")
                })
                .map(|s| s.join(" "))
                .collect();
            let shown = fits(&collapse(&cmd))
                .filter(|_| !cmd.trim().contains('\n'))
                .or_else(|| fits(&doing.join(" && ")))?;
            steps.push(format!("run {}", code(&ctx.relative_in(&shown))));
            step_events.push(c.at);
        } else if is_edit(c.tool) {
            let Some(file) = c.file() else { continue };
            if is_memory_file(file) {
                continue;
            }
            let file = ctx.relative(file).to_string();
            let added = added_lines(c);
            match edits.iter_mut().find(|(p, _)| *p == file) {
                // Edited more than once: no single line to show.
                Some((_, lines)) => lines.push(String::new()),
                None => edits.push((file, added)),
            }
            step_events.push(c.at);
        }
    }
    for (file, added) in &edits {
        match added.as_slice() {
            [line] if !line.is_empty() && line.chars().count() <= 100 => {
                steps.push(format!("add {} to {}", code(line), code(file)));
            }
            _ => steps.push(format!("edit {}", code(file))),
        }
    }
    if steps.len() > MAX_STEPS {
        return None;
    }
    let only_commands = edits.is_empty();
    // What changed in the call itself.
    let (what, changed) = if is_shell(failed.tool) {
        let a = ctx.relative_in(&failed.command()?);
        let b = ctx.relative_in(&retry.command()?);
        let segs_a = segments(&a);
        if segs_a.iter().all(|s| is_read_only(program_tokens(s))) {
            // A look that found nothing is not an error to learn from.
            return None;
        }
        let main_a = main_segment(&segs_a, &sig)?.clone();
        let key_a = key(&main_a)?;
        let compile = compile_code(&sig).is_some() && builds(&key_a);
        let segs_b = segments(&b);
        let main_b = segs_b
            .iter()
            .find(|s| key(s).as_deref() == Some(key_a.as_str()))
            .or_else(|| {
                segs_b
                    .iter()
                    .find(|s| compile && key(s).is_some_and(|k| builds(&k)))
            })?
            .clone();
        let dirs = |segs: &[Vec<String>]| -> Vec<Vec<String>> {
            segs.iter()
                .filter(|s| s.first().is_some_and(|p| p == "cd"))
                .cloned()
                .collect()
        };
        let (dirs_a, dirs_b) = (dirs(&segs_a), dirs(&segs_b));
        let changed = if compile || main_a == main_b && dirs_a == dirs_b {
            None
        } else if dirs_a != dirs_b {
            let mut run: Vec<String> = dirs_b.iter().map(|d| d.join(" ")).collect();
            run.push(main_b.join(" "));
            Some(format!("run {} instead", code(&fits(&run.join(" && "))?)))
        } else {
            Some(change_of(&main_a, &main_b)?)
        };
        let shown = fits(&collapse(&a))
            .filter(|_| !a.trim().contains('\n'))
            .or_else(|| fits(&main_a.join(" ")))?;
        (code(&shown), changed)
    } else {
        let file = failed.file().map(|f| ctx.relative(f).to_string());
        let what = match file {
            Some(f) => format!("{} of {}", failed.tool, code(&f)),
            None => failed.tool.to_string(),
        };
        (what, None)
    };
    if changed.is_none() && steps.iter().all(|s| s.starts_with("edit ")) {
        // "edit the file" alone says nothing a reader could reuse.
        return None;
    }
    let fix = match (steps.is_empty(), changed) {
        (true, Some(c)) => c,
        (false, Some(c)) => format!("{}, then {c}", steps.join(" and ")),
        (false, None) if only_commands => format!("{} first", steps.join(" and ")),
        (false, None) => steps.join(" and "),
        (true, None) => return None,
    };
    let text = format!("When {what} fails with {}, {fix}.", code(&sig));
    if text.contains("[REDACTED") {
        return None;
    }
    let mut evidence: Vec<(usize, String)> = Vec::new();
    let events = ctx.events();
    if let Some(r) = failed.result {
        evidence.push((r, events[r].text.clone().unwrap_or_default()));
    }
    for &s in &step_events {
        evidence.push((s, super::util::describe_call(&events[s])));
    }
    match retry.result {
        Some(r) => evidence.push((r, events[r].text.clone().unwrap_or_default())),
        None => evidence.push((retry.at, super::util::describe_call(&events[retry.at]))),
    }
    Some(ctx.candidate(
        EntryKind::Lesson,
        text,
        LESSONS,
        ctx.section.clone(),
        &evidence,
        "a tool error and the fix that worked",
    ))
}

/// `s` when it is short enough to show whole in a lesson, on one line.
fn fits(s: &str) -> Option<String> {
    (s.chars().count() <= MAX_SHOWN && !s.contains('\n')).then(|| s.to_string())
}

/// How the retry's command differs from the failed one: one argument changed (`run it with
/// X instead of Y`), else the retry as a whole (`run X instead`).
fn change_of(a: &[String], b: &[String]) -> Option<String> {
    if a.len() == b.len() {
        let diff: Vec<usize> = (0..a.len()).filter(|&i| a[i] != b[i]).collect();
        if let [i] = diff.as_slice() {
            return Some(format!(
                "run it with {} instead of {}",
                code(&fits(&b[*i])?),
                code(&fits(&a[*i])?)
            ));
        }
    }
    Some(format!("run {} instead", code(&fits(&b.join(" "))?)))
}

/// The lines an edit added (lines of the new text that were not in the old).
fn added_lines(c: &Call) -> Vec<String> {
    let Some(input) = c.input else {
        return Vec::new();
    };
    let s = |k: &str| input.get(k).and_then(Value::as_str).unwrap_or("");
    let (old, new) = match c.tool {
        "Write" | "write_file" => ("", s("content")),
        _ => {
            let old = if s("old_string").is_empty() {
                s("old_str")
            } else {
                s("old_string")
            };
            let new = if s("new_string").is_empty() {
                s("new_str")
            } else {
                s("new_string")
            };
            (old, new)
        }
    };
    if new.is_empty() {
        return vec![String::new(), String::new()];
    }
    let old_lines: BTreeSet<&str> = old.lines().map(str::trim).collect();
    let removed = old
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !new.lines().any(|n| n.trim() == *l))
        .count();
    let added: Vec<String> = new
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !old_lines.contains(l))
        .map(str::to_string)
        .collect();
    if removed > 0 {
        // Not a pure addition: described as an edit.
        return vec![String::new(), String::new()];
    }
    added
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_name_what_went_wrong() {
        let cases: &[(&str, &str)] = &[
            (
                "Exit code 1\nerror: error communicating with database: Connection refused (os error 111)",
                "error: error communicating with database: Connection refused (os error 111)",
            ),
            (
                "Exit code 101\n   Compiling tallyho v0.3.0 (/home/dev/tallyho)\nerror[E0432]: unresolved import `serde_json`\n --> tests/api_tallies.rs:8:5",
                "error[E0432]: unresolved import `serde_json`",
            ),
            (
                "Exit code 101\n    Finished `test` profile in 11.37s\n     Running tests/api_tallies.rs (target/debug/deps/api_tallies-5c0e2b81f4d9a6e3)\n\nrunning 2 tests\ntest a ... FAILED\n\nthread 'a' panicked at tests/common/mod.rs:9:45:\nDATABASE_URL must be set for integration tests: NotPresent",
                "DATABASE_URL must be set for integration tests: NotPresent",
            ),
            (
                "thread 'export_basic' panicked at tests/common/mod.rs:12:10:\ncould not connect to test database: Database(PgDatabaseError { severity: Fatal, code: \"3D000\", message: \"database \\\"tallyho_test\\\" does not exist\", detail: None })",
                "could not connect to test database: database \"tallyho_test\" does not exist (3D000)",
            ),
            (
                "Exit code 2\n\n> tallyho-admin@0.4.0 build /home/dev/tallyho/ui\n> tsc -b && vite build\n\nsrc/pages/TalliesPage.tsx(5,36): error TS2304: Cannot find name 'TallyRow'.\n ELIFECYCLE  Command failed with exit code 2.",
                "src/pages/TalliesPage.tsx(5,36): error TS2304: Cannot find name 'TallyRow'.",
            ),
            (
                "Exit code 127\n/bin/bash: line 1: diesel: command not found",
                "diesel: command not found",
            ),
            (
                "Exit code 1\nDiff in /repo/tests/x.rs:6:\n use a;",
                "Diff in /repo/tests/x.rs:6",
            ),
            (
                "[2026-03-02T09:15:00Z] ERROR: upload failed after 3.2s",
                "ERROR: upload failed after",
            ),
        ];
        for (output, want) in cases {
            assert_eq!(signature(output).as_deref(), Some(*want), "{output:?}");
        }
    }

    #[test]
    fn commands_split_into_what_runs() {
        let keys =
            |cmd: &str| -> Vec<String> { segments(cmd).iter().filter_map(|s| key(s)).collect() };
        let cases: &[(&str, &[&str])] = &[
            ("sqlx migrate run", &["sqlx migrate"]),
            ("sleep 2 && sqlx migrate run", &["sleep", "sqlx migrate"]),
            ("cd ui && pnpm build", &["cd", "pnpm build"]),
            (
                "DATABASE_URL=postgres://localhost:5433/t cargo test --test api",
                &["cargo test"],
            ),
            (
                "for i in $(seq 20); do X=1 cargo test -q 2>&1 | grep -E 'a|b'; done | sort",
                &["cargo test", "grep", "sort"],
            ),
            (
                "git commit -m \"a && b\" && git push",
                &["git commit", "git push"],
            ),
            ("./scripts/deploy.sh --fast", &["deploy.sh"]),
        ];
        for (cmd, want) in cases {
            assert_eq!(keys(cmd), *want, "{cmd:?}");
        }
        let toks = |s: &str| s.split(' ').map(String::from).collect::<Vec<_>>();
        assert_eq!(
            change_of(&toks("X=5432 cargo test"), &toks("X=5433 cargo test")).as_deref(),
            Some("run it with `X=5433` instead of `X=5432`")
        );
        assert_eq!(
            change_of(&toks("cargo test"), &toks("X=1 cargo test")).as_deref(),
            Some("run `X=1 cargo test` instead")
        );
        assert!(is_read_only(&toks("git status")));
        assert!(!is_read_only(&toks("docker compose up -d db")));
        assert!(!is_read_only(&toks("sed -i s/a/b/ f")));
    }

    #[test]
    fn errors_fixed_later_are_lessons() {
        use super::super::util::build::*;
        use serde_json::json;
        const REFUSED: &str = "Exit code 1\nerror: error communicating with database: Connection refused (os error 111)";
        let edit = |id: &str, old: &str, new: &str| {
            call(
                id,
                "Edit",
                json!({"file_path": "/home/dev/app/src/a.ts", "old_string": old, "new_string": new}),
            )
        };
        // (events, the lessons expected)
        let cases: Vec<(Vec<reverie_core::session::Event>, Vec<&str>)> = vec![
            (
                [
                    ran("1", "sqlx migrate run", REFUSED, true),
                    ran("2", "docker compose up -d db", "Container db Started", false),
                    ran("3", "sleep 2 && sqlx migrate run", "Applied 1/migrate init", false),
                ]
                .concat(),
                vec!["When `sqlx migrate run` fails with `error: error communicating with database: Connection refused (os error 111)`, run `docker compose up -d db` first."],
            ),
            // never fixed
            (ran("1", "sqlx migrate run", REFUSED, true).to_vec(), vec![]),
            // the same command again, nothing done in between: nothing learned
            (
                [ran("1", "sqlx migrate run", REFUSED, true), ran("2", "sqlx migrate run", "ok", false)].concat(),
                vec![],
            ),
            // one argument changed
            (
                [
                    ran("1", "psql -p 5432 -c 'select 1'", "psql: error: connection to server failed: Connection refused", true),
                    ran("2", "psql -p 6543 -c 'select 1'", "1", false),
                ]
                .concat(),
                vec!["When `psql -p 5432 -c 'select 1'` fails with `psql: error: connection to server failed: Connection refused`, run it with `6543` instead of `5432`."],
            ),
            // a failure said only in the output, then the program changed: not the same program
            (
                [
                    ran("1", "npm install", "npm ERR! code ERESOLVE", false),
                    ran("2", "pnpm install", "Done in 3.4s", false),
                ]
                .concat(),
                vec![],
            ),
            // a subagent's error is not fixed by the main thread
            (
                [
                    ran("1", "sqlx migrate run", REFUSED, true).map(sidechain).to_vec(),
                    ran("2", "docker compose up -d db", "ok", false).to_vec(),
                    ran("3", "sqlx migrate run", "Applied", false).to_vec(),
                ]
                .concat(),
                vec![],
            ),
            // the user rejected the retry; the harness's own complaint is no error
            (
                [
                    ran("1", "sqlx migrate run", REFUSED, true),
                    ran("2", "docker compose up -d db", "The user doesn't want to proceed with this tool use.", true),
                ]
                .concat(),
                vec![],
            ),
            (
                [
                    [edit("1", "a", "b"), result("1", "<tool_use_error>File has not been read yet. Read it first before writing to it.</tool_use_error>", true)],
                    [call("2", "Read", json!({"file_path": "/home/dev/app/src/a.ts"})), result("2", "1→a", false)],
                    [edit("3", "a", "b"), result("3", "ok", false)],
                ]
                .concat(),
                vec![],
            ),
            // a compile error fixed: the next build fails later, for another reason
            (
                [
                    ran("1", "cargo build", "Exit code 101\nerror[E0433]: failed to resolve: use of undeclared crate `serde_json`", true),
                    ran("2", "cargo add serde_json", "Adding serde_json", false),
                    ran("3", "cargo test", "Exit code 101\nthread 't' panicked at src/lib.rs:3:5:\nassertion failed: ok", true),
                ]
                .concat(),
                vec!["When `cargo build` fails with `` error[E0433]: failed to resolve: use of undeclared crate `serde_json` ``, run `cargo add serde_json` first."],
            ),
            // a test failure followed by another failure: not fixed
            (
                [
                    ran("1", "cargo test", "Exit code 101\nthread 't' panicked at src/lib.rs:3:5:\nleft: 2 right: 1", true),
                    [edit("2", "x", "y"), result("2", "ok", false)],
                    ran("3", "cargo test", "Exit code 101\nthread 't' panicked at src/lib.rs:3:5:\nleft: 409 right: 201", true),
                ]
                .concat(),
                vec![],
            ),
            // a look that found nothing
            (
                [ran("1", "ls types/", "ls: cannot access 'types/': No such file or directory", true), ran("2", "ls", "src", false)].concat(),
                vec![],
            ),
            // fixed by editing, with the line added; an edit alone with nothing to show is no lesson
            (
                [
                    ran("1", "pnpm build", "Exit code 2\nsrc/a.ts(5,36): error TS2304: Cannot find name 'Row'.", true),
                    [edit("2", "import { a } from './a';", "import { a } from './a';\nimport type { Row } from './types';"), result("2", "ok", false)],
                    ran("3", "pnpm build", "built in 1.84s", false),
                ]
                .concat(),
                vec!["When `pnpm build` fails with `src/a.ts(5,36): error TS2304: Cannot find name 'Row'.`, add `import type { Row } from './types';` to `src/a.ts`."],
            ),
            (
                [
                    ran("1", "pnpm build", "Exit code 2\nsrc/a.ts(5,36): error TS2304: Cannot find name 'Row'.", true),
                    [edit("2", "one\ntwo", "three\nfour"), result("2", "ok", false)],
                    ran("3", "pnpm build", "built in 1.84s", false),
                ]
                .concat(),
                vec![],
            ),
        ];
        for (events, want) in cases {
            let s = session("s", events);
            let got: Vec<String> = extract(&Ctx::new(&s))
                .into_iter()
                .map(|c| {
                    assert_eq!((c.path.as_str(), c.kind), (LESSONS, EntryKind::Lesson));
                    assert!(c.evidence.len() >= 2);
                    c.text
                })
                .collect();
            assert_eq!(
                got,
                want,
                "{:?}",
                s.events
                    .iter()
                    .map(super::super::util::describe_call)
                    .collect::<Vec<_>>()
            );
        }
    }
}

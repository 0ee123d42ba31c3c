//! Lessons: a tool error, followed to the step that finally worked.
//!
//! A failed call opens a chain. Later calls of the same conversation (main thread or one
//! subagent) that try the same thing ([`same_intent`]) either fail the same way again (the
//! chain goes on from there), fail differently (the first error was got past: a chain such as
//! a pre-commit hook's format → lint → type check), or work. A retry that only drops the
//! failing argument (`git add` without the ignored file) is not a fix: the chain waits for a
//! call that brings the argument back (`git add -f` it). What was done in between — edits,
//! commands that change things, the reads a harness error asked for — is the fix, and what
//! the agent concluded right after the error and after the success is kept as the cause and
//! the outcome.
//!
//! Lessons are keyed by their error's [`Signature`]: the same error in many sessions or on
//! many branches is one lesson with all its evidence, written from its newest occurrence,
//! with branch names and the project's folder generalized away.

use std::collections::BTreeMap;

use reverie_core::curation::EntryKind;
use reverie_core::session::EventKind;

use super::calls::{Call, Status, calls, is_edit, is_read_only, same_intent};
use super::util::{Ctx, LESSONS, code, collapse, cut, is_memory_file, sentences};
use crate::candidate::Candidate;
use crate::signature::{Signature, error_line, failed_simple};

/// Most calls after an error that may still hold its fix.
const WINDOW: usize = 30;
/// Most characters of a command or an error line in a lesson.
const MAX_SHOWN: usize = 180;
/// Most fix steps named.
const MAX_STEPS: usize = 3;
/// Failures of the same error in a row, never got past, that make it a known breakage.
const UNRESOLVED_TIMES: usize = 3;

/// Lessons of every session, one per signature (the newest occurrence's text, all the
/// evidence).
pub(crate) fn extract(ctxs: &[Ctx]) -> Vec<Candidate> {
    // One lesson per error and fix: the same error fixed the same way in many sessions or on
    // many branches is one lesson; fixed another way (a database that was down, then one
    // that moved), it is another.
    let mut by_sig: BTreeMap<(Signature, String), Candidate> = BTreeMap::new();
    for ctx in ctxs {
        for (sig, fix, c) in of_session(ctx) {
            let sig = (sig, fix);
            match by_sig.get_mut(&sig) {
                Some(kept) => {
                    let mut evidence = std::mem::take(&mut kept.evidence);
                    evidence.extend(c.evidence.iter().cloned());
                    if c.at >= kept.at {
                        *kept = c;
                    }
                    evidence.sort();
                    evidence.dedup();
                    kept.evidence = evidence;
                }
                None => {
                    by_sig.insert(sig, c);
                }
            }
        }
    }
    by_sig.into_values().collect()
}

/// How a chain ended.
enum End {
    /// The call worked.
    Worked,
    /// The call failed, but not with the error the chain started from.
    GotPast,
}

/// The lessons of one session with their signatures.
fn of_session(ctx: &Ctx) -> Vec<(Signature, String, Candidate)> {
    let calls = calls(ctx);
    let mut done = vec![false; calls.len()];
    let mut out = Vec::new();
    for f in 0..calls.len() {
        if done[f] || calls[f].status != Status::Failed || calls[f].is_read_only() {
            continue;
        }
        let sig = calls[f].signature(ctx);
        if sig.class.is_empty() {
            continue;
        }
        let failed_key = failed_key(&calls[f]);
        let mut last = f;
        let mut dropped: Vec<String> = Vec::new();
        let mut end = None;
        let thread: Vec<usize> = (f + 1..calls.len())
            .filter(|&j| calls[j].thread == calls[f].thread)
            .take(WINDOW)
            .collect();
        for j in thread {
            let c = &calls[j];
            if !same_intent(&calls[last], c, failed_key.as_deref()) {
                continue;
            }
            match c.status {
                Status::Rejected | Status::Pending | Status::Cascade => continue,
                Status::Failed => {
                    let now = c.signature(ctx);
                    // Tests failing on another assertion have not got past anything: the
                    // code under test is still wrong.
                    if now == sig || is_assertion(&sig.class) && is_assertion(&now.class) {
                        done[j] = true;
                        last = j;
                        continue;
                    }
                    end = Some((j, End::GotPast));
                    break;
                }
                Status::Ok => {
                    if let Some(d) = only_drops(&calls[last], c) {
                        dropped.extend(d);
                        continue;
                    }
                    if !dropped.is_empty() && !brings_back(c, &dropped) {
                        continue;
                    }
                    end = Some((j, End::Worked));
                    break;
                }
            }
        }
        let Some((j, how)) = end else {
            // The same error again and again with nothing that got past it: a known breakage
            // the next session should not spend its time on.
            let times = (f..=last)
                .filter(|&k| k == f || done[k] && calls[k].status == Status::Failed)
                .count();
            if times >= UNRESOLVED_TIMES && !is_assertion(&sig.class) {
                done[f] = true;
                if let Some(c) = unresolved(ctx, &calls, f, last, times) {
                    out.push((sig, "unresolved".into(), c));
                }
            }
            continue;
        };
        done[f] = true;
        if let Some((fix, c)) = lesson(ctx, &calls, f, last, j, &how, is_assertion(&sig.class)) {
            out.push((sig, fix, c));
        }
    }
    out
}

/// Whether an error class is a test's assertion failing: what it teaches is about the code
/// under test that day, not about the project's tools.
fn is_assertion(class: &str) -> bool {
    static RE: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(
            r"assert|expect\(|\bexpected\b.*\b(?:but|got|received)\b|\bN (?:tests? )?fail|tests? failed|^failures?:|\(fail\)",
        )
        .expect("a valid regex")
    });
    RE.is_match(class)
}

/// The key of the simple command of a failed shell call that failed.
fn failed_key(c: &Call) -> Option<String> {
    if !c.is_shell() {
        return None;
    }
    let s = failed_simple(&c.simples, c.output)?;
    s.key()
}

/// The words of a shell call's failing simple command.
fn words_of(c: &Call) -> Vec<String> {
    failed_simple(&c.simples, c.output)
        .map(|s| s.program_words().to_vec())
        .unwrap_or_default()
}

/// The arguments `retry` dropped from `failed` when that is all it changed.
fn only_drops(failed: &Call, retry: &Call) -> Option<Vec<String>> {
    if !failed.is_shell() {
        return None;
    }
    let a = words_of(failed);
    let b: Vec<String> = retry
        .simples
        .iter()
        .find(|s| s.key() == failed_key(failed))
        .map(|s| s.program_words().to_vec())?;
    if b.len() >= a.len() || !b.iter().all(|w| a.contains(w)) {
        return None;
    }
    Some(a.into_iter().filter(|w| !b.contains(w)).collect())
}

/// Whether a call names one of the dropped arguments again.
fn brings_back(c: &Call, dropped: &[String]) -> bool {
    c.simples
        .iter()
        .any(|s| s.words.iter().any(|w| dropped.contains(w)))
}

/// What the assistant said right after the event at `after`, before its next tool call:
/// its first sentences that state something (planning and filler left out).
fn conclusion(
    ctx: &Ctx,
    after: usize,
    thread: (bool, Option<&str>),
    verdict_only: bool,
) -> Option<String> {
    let events = ctx.events();
    let mut text = String::new();
    for e in &events[after + 1..] {
        if (e.sidechain, e.agent_id.as_deref()) != thread {
            continue;
        }
        match e.kind {
            // The harness's API errors speak as the assistant.
            EventKind::Assistant
                if e.is_error
                    || e.text
                        .as_deref()
                        .is_some_and(|t| t.starts_with("API Error")) =>
            {
                break;
            }
            EventKind::Assistant => {
                text.push_str(e.text.as_deref().unwrap_or(""));
                text.push('\n');
            }
            EventKind::Thinking => continue,
            _ => break,
        }
    }
    // After a success only a verdict is worth keeping ("it was just flaky"), not the
    // report of what was done.
    static VERDICT: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r"(?i)\b(?:because|caused|flaky|root cause|turned out|was the|due to|the (?:real )?(?:issue|problem|fix) (?:is|was)|not the|instead of|so the|which means)\b")
            .expect("a valid regex")
    });
    let kept: Vec<String> = sentences(&text)
        .into_iter()
        .filter(|s| states_something(s) && !s.starts_with('`') && s.chars().count() <= 260)
        .filter(|s| !verdict_only || VERDICT.is_match(s))
        .take(if verdict_only { 1 } else { 2 })
        .collect();
    (!kept.is_empty()).then(|| cut(&kept.join(" "), 300))
}

/// Whether a sentence of the assistant states something rather than announce its next step.
pub(crate) fn states_something(s: &str) -> bool {
    let l = s.trim().to_lowercase();
    const PLANNING: &[&str] = &[
        "let me",
        "let's",
        "i'll",
        "i will",
        "i need to",
        "i should",
        "now i",
        "now let",
        "now,",
        "next,",
        "first,",
        "then,",
        "ok",
        "okay",
        "good",
        "great",
        "perfect",
        "done",
        "sure",
        "excellent",
        "i see",
        "i'm going",
        "i am going",
        "going to",
        "we need to",
        "i can",
        "i want",
        "hmm",
        "wait",
        "alright",
        "all right",
        "still ",
        "checking",
        "looking",
        "let us",
        "time to",
        "here's",
        "here is",
        "now ",
        "ready",
        "close",
        "committed",
        "fixed",
        "found it",
        "got it",
        "interesting",
        "nice",
        "all ",
    ];
    static STATUS: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r"\d+ (?:of \d+ )?(?:tests? |tasks? )?(?:pass|fail|succe)|\bstep \d|\*\*")
            .expect("a valid regex")
    });
    l.split_whitespace().count() >= 4
        && !STATUS.is_match(&l)
        && !PLANNING.iter().any(|p| l.starts_with(p))
        && !l.ends_with('?')
        && !l.ends_with(':')
}

/// One step of a fix, shown.
fn step(ctx: &Ctx, c: &Call) -> Option<String> {
    if c.is_shell() {
        if c.is_read_only() {
            return None;
        }
        let shown: Vec<String> = c
            .simples
            .iter()
            .filter(|s| !is_read_only(s))
            .map(|s| ctx.volatile.generalize(&s.display()))
            .collect();
        let line = shown.join(" && ");
        return (line.chars().count() <= MAX_SHOWN).then(|| format!("ran {}", code(&line)));
    }
    if is_edit(c.tool) {
        let file = c.file()?;
        if is_memory_file(file) {
            return None;
        }
        let file = ctx.volatile.generalize(file);
        return Some(match added_line(c) {
            Some(line) => format!("edited {} (`{}`)", code(&file), line.replace('`', "'")),
            None => format!("edited {}", code(&file)),
        });
    }
    None
}

/// The first meaningful line an edit added.
fn added_line(c: &Call) -> Option<String> {
    let (old, new) = if c.tool == "Write" || c.tool == "write_file" {
        ("", c.field("content").unwrap_or(""))
    } else {
        (
            c.field("old_string").or(c.field("old_str")).unwrap_or(""),
            c.field("new_string").or(c.field("new_str")).unwrap_or(""),
        )
    };
    let old: Vec<&str> = old.lines().map(str::trim).collect();
    new.lines()
        .map(str::trim)
        .find(|l| l.len() >= 4 && !old.contains(l) && l.chars().any(char::is_alphanumeric))
        .map(|l| cut(l, 100))
}

/// The lesson of the chain from `f` (first failure) through `last` (its last recurrence)
/// to `j` (what worked, or got past it).
/// A test's assertion failing teaches something only when the agent said why (`the LiveView
/// process can't access the SQL sandbox`) and the fix is short.
fn lesson(
    ctx: &Ctx,
    calls: &[Call],
    f: usize,
    last: usize,
    j: usize,
    how: &End,
    assertion: bool,
) -> Option<(String, Candidate)> {
    let (failed, retry) = (&calls[last], &calls[j]);
    let v = &ctx.volatile;
    let program = if failed.is_shell() {
        failed_key(failed).unwrap_or_else(|| failed.tool.to_string())
    } else {
        failed.tool.to_string()
    };
    let line = error_line(failed.output)?;
    let line = cut(&collapse(&v.generalize(&line)), MAX_SHOWN);
    if line.contains("[REDACTED") {
        return None;
    }
    // The steps in between, newest last.
    let mut steps: Vec<(usize, String)> = Vec::new();
    let mut edited: Vec<String> = Vec::new();
    let harness_read = failed.output.contains("has not been read");
    for c in &calls[last + 1..j] {
        if c.thread != failed.thread || c.status != Status::Ok {
            continue;
        }
        if harness_read && c.tool == "Read" && c.file() == failed.file() {
            steps.push((c.at, "read the file first".into()));
            continue;
        }
        if is_edit(c.tool) {
            let f = c.file().unwrap_or("").to_string();
            if edited.contains(&f) {
                continue;
            }
            edited.push(f);
        }
        if let Some(s) = step(ctx, c) {
            steps.push((c.at, s));
        }
    }
    let many = steps.len() > MAX_STEPS;
    let shown_steps: Vec<&str> = steps
        .iter()
        .skip(steps.len().saturating_sub(MAX_STEPS))
        .map(|(_, s)| s.as_str())
        .collect();
    // The call that worked, when it differs from the one that failed.
    let display = |c: &Call| -> Option<String> {
        if c.is_shell() {
            let s = c
                .simples
                .iter()
                .find(|s| !is_read_only(s))
                .or(c.simples.first())?;
            Some(cut(&v.generalize(&s.display()), MAX_SHOWN))
        } else {
            None
        }
    };
    let a = failed_simple(&failed.simples, failed.output)
        .map(|s| cut(&v.generalize(&s.display()), MAX_SHOWN))
        .or_else(|| display(failed));
    let b = display(retry);
    let changed = b.is_some() && a != b;
    // The failing command as run (its flags say much: `--force`), when short enough.
    let shown = a
        .as_deref()
        .filter(|a| {
            failed.is_shell() && a.starts_with(program.split_whitespace().next().unwrap_or(""))
        })
        .filter(|a| a.chars().count() <= 100)
        .map_or(program.clone(), str::to_string);
    let mut text = format!("{} failed: {}.", code(&shown), code(&line));
    let cause = conclusion(
        ctx,
        failed.result.unwrap_or(failed.at),
        failed.thread,
        false,
    );
    if assertion && (cause.is_none() || many) {
        return None;
    }
    if let Some(cause) = cause {
        text.push_str(&format!(" {cause}"));
    }
    let mut fix = Vec::new();
    if !shown_steps.is_empty() {
        fix.push(format!(
            "{}{}",
            if many { "…, " } else { "" },
            shown_steps.join(", ")
        ));
    }
    match how {
        End::Worked if changed => fix.push(format!("then {} worked", code(&b.clone()?))),
        End::Worked if shown_steps.is_empty() => {
            if failed.is_shell() {
                fix.push("it passed when run again unchanged (flaky)".into());
            } else {
                fix.push(format!(
                    "`{}` again {}",
                    retry.tool,
                    input_change(failed, retry)?
                ));
            }
        }
        End::Worked => fix.push("then it worked".into()),
        End::GotPast => fix.push(format!(
            "then the next attempt got past this error{}",
            b.filter(|_| changed)
                .map(|b| format!(" ({})", code(&b)))
                .unwrap_or_default()
        )),
    }
    text.push_str(&format!(" What worked: {}.", fix.join("; ")));
    if let End::Worked = how
        && let Some(outcome) = conclusion(ctx, retry.result.unwrap_or(retry.at), retry.thread, true)
    {
        text.push_str(&format!(" {outcome}"));
    }
    let events = ctx.events();
    let mut evidence: Vec<(usize, String)> = Vec::new();
    for c in [&calls[f], failed] {
        if let Some(r) = c.result {
            evidence.push((r, events[r].text.clone().unwrap_or_default()));
        }
    }
    for (at, s) in &steps {
        evidence.push((*at, s.clone()));
    }
    evidence.push((
        retry.result.unwrap_or(retry.at),
        retry
            .command
            .clone()
            .unwrap_or_else(|| retry.tool.to_string()),
    ));
    let mut fix_kind: Vec<String> = calls[last + 1..j]
        .iter()
        .filter(|c| c.thread == failed.thread && c.status == Status::Ok)
        .flat_map(|c| {
            if c.is_shell() && !c.is_read_only() {
                c.keys()
            } else if is_edit(c.tool) {
                vec!["edit".to_string()]
            } else {
                Vec::new()
            }
        })
        .collect();
    if changed {
        fix_kind.extend(retry.keys());
    }
    fix_kind.sort();
    fix_kind.dedup();
    Some((
        fix_kind.join(","),
        ctx.candidate(
            EntryKind::Lesson,
            text,
            LESSONS,
            vec![topic(&program)],
            &evidence,
            "a tool error and the fix that worked",
        ),
    ))
}

/// The lesson of an error that came back `times` times from `f` to `last` and was never got
/// past in the session: what fails, and the agent's word on why when it gave one.
fn unresolved(ctx: &Ctx, calls: &[Call], f: usize, last: usize, times: usize) -> Option<Candidate> {
    let failed = &calls[last];
    if !failed.is_shell() {
        return None;
    }
    let v = &ctx.volatile;
    let program = failed_key(failed)?;
    let line = cut(
        &collapse(&v.generalize(&error_line(failed.output)?)),
        MAX_SHOWN,
    );
    if line.contains("[REDACTED") {
        return None;
    }
    let mut text = format!(
        "{} fails with {}: it failed {times} times in one session and no fix was found.",
        code(&program),
        code(&line)
    );
    if let Some(cause) = conclusion(
        ctx,
        failed.result.unwrap_or(failed.at),
        failed.thread,
        false,
    ) {
        text.push_str(&format!(" {cause}"));
    }
    let events = ctx.events();
    let evidence: Vec<(usize, String)> = [&calls[f], failed]
        .iter()
        .filter_map(|c| c.result)
        .map(|r| (r, events[r].text.clone().unwrap_or_default()))
        .collect();
    Some(ctx.candidate(
        EntryKind::Lesson,
        text,
        LESSONS,
        vec![topic(&program)],
        &evidence,
        "a tool error that came back again and again and was never fixed",
    ))
}

/// How a tool call's input changed between a failure and the call that worked: the fields
/// added or changed (`with limit: 5`), a list that shrank (`with 4 questions instead of 5`).
fn input_change(a: &Call, b: &Call) -> Option<String> {
    let (Some(serde_json::Value::Object(x)), Some(serde_json::Value::Object(y))) =
        (a.input, b.input)
    else {
        return None;
    };
    let mut parts = Vec::new();
    for (k, vb) in y {
        if k == "description" {
            continue;
        }
        match (x.get(k), vb) {
            (Some(serde_json::Value::Array(la)), serde_json::Value::Array(lb))
                if la.len() != lb.len() =>
            {
                parts.push(format!("with {} `{k}` instead of {}", lb.len(), la.len()));
            }
            (None, v) | (Some(_), v) if x.get(k) != Some(v) => {
                let shown = match v {
                    serde_json::Value::String(s) if s.chars().count() <= 40 => format!("{s:?}"),
                    serde_json::Value::Number(_) | serde_json::Value::Bool(_) => v.to_string(),
                    _ if x.get(k).is_none() => "set".into(),
                    _ => continue,
                };
                parts.push(format!("with `{k}: {shown}`"));
            }
            _ => {}
        }
    }
    (!parts.is_empty()).then(|| parts.join(", "))
}

/// The section a lesson about `program` goes under: the program's name, or the agent's tools.
pub(crate) fn topic(program: &str) -> String {
    let first = program.split_whitespace().next().unwrap_or(program);
    let runner = matches!(first, "npx" | "bunx" | "pnpx" | "uvx");
    let name = if runner {
        program.split_whitespace().nth(1).unwrap_or(first)
    } else {
        first
    };
    if name.chars().next().is_some_and(char::is_uppercase) || name.starts_with("mcp__") {
        "Agent tools".into()
    } else {
        name.to_string()
    }
}

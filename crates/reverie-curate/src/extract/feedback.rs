//! Environment rules from hook feedback: what the project's tooling tells the agent, every
//! session, in the same words — a Stop hook that refuses to stop with uncommitted work or asks
//! for a summary first, a PostToolUse hook that reports a linter's limits after every edit
//! (`[CREDO] … Function is too complex (cyclomatic complexity is 10, max is 9)`).
//!
//! The harness writes these as user text (`Stop hook feedback:\n[command]: …`, a
//! `<system-reminder>` holding `PostToolUse:Edit hook additional context: [CHECKER] …`); a
//! person never types them. Each rule is kept once, keyed by the hook and the rule's class
//! (paths, line numbers and counts as placeholders), written from its newest occurrence.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use regex::Regex;
use reverie_core::curation::EntryKind;
use reverie_core::session::EventKind;

use super::util::{Ctx, collapse, cut};
use crate::candidate::Candidate;
use crate::signature::{Volatile, class_of};

/// Where environment rules go.
pub(crate) const ENVIRONMENT: &str = "/environment.md";

/// One rule, where it was seen.
struct Rule {
    text: String,
    section: String,
    session: usize,
    events: Vec<usize>,
}

/// The hook rules of every session, one per hook and class.
pub(crate) fn extract(ctxs: &[Ctx]) -> Vec<Candidate> {
    let mut rules: BTreeMap<String, Rule> = BTreeMap::new();
    for (si, ctx) in ctxs.iter().enumerate() {
        for (i, e) in ctx.events().iter().enumerate() {
            if e.kind != EventKind::User {
                continue;
            }
            let Some(text) = e.text.as_deref() else {
                continue;
            };
            let found = stop_hook(text, &ctx.volatile)
                .into_iter()
                .chain(additional_context(text, &ctx.volatile));
            for (key, section, rule) in found {
                if rule.contains("[REDACTED") {
                    continue;
                }
                let r = rules.entry(key).or_insert_with(|| Rule {
                    text: rule.clone(),
                    section: section.clone(),
                    session: si,
                    events: Vec::new(),
                });
                r.text = rule;
                r.session = si;
                if r.events.len() < 8 {
                    r.events.push(i);
                }
            }
        }
    }
    rules
        .into_values()
        .map(|r| {
            let ctx = &ctxs[r.session];
            let ev: Vec<(usize, String)> = r
                .events
                .iter()
                .filter(|&&i| i < ctx.events().len())
                .map(|&i| (i, ctx.events()[i].text.clone().unwrap_or_default()))
                .collect();
            let mut c = ctx.candidate(
                EntryKind::Instruction,
                r.text,
                ENVIRONMENT,
                vec![r.section],
                &ev,
                "feedback the project's hooks gave the agent",
            );
            c.from_tool_output = true;
            c
        })
        .collect()
}

/// Hook lines of a session that could not be read: a Stop hook's feedback that says nothing,
/// a hook's additional context without its event and tool. Counted, never a candidate.
pub(crate) fn unreadable(ctx: &Ctx) -> usize {
    ctx.events()
        .iter()
        .filter(|e| e.kind == EventKind::User)
        .filter_map(|e| e.text.as_deref())
        .filter(|t| {
            let stop = t.trim_start().starts_with("Stop hook feedback:");
            (stop && stop_hook(t, &ctx.volatile).is_none())
                || (!stop && t.contains("hook additional context:") && !CONTEXT.is_match(t))
        })
        .count()
}

/// `PostToolUse:Edit hook additional context: [CHECKER]`.
static CONTEXT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?m)^(\w+):(\w+) hook additional context:\s*(?:\[([^\]\n]+)\])?\s*\n?")
        .expect("a valid regex")
});

/// `Stop hook feedback:\n[command]: body` → the rule, keyed by the hook and the body's
/// heading.
fn stop_hook(text: &str, v: &Volatile) -> Option<(String, String, String)> {
    let rest = text.trim_start().strip_prefix("Stop hook feedback:")?;
    let rest = rest.trim_start().replace("\\n", "\n");
    let (command, body) = match rest.strip_prefix('[').and_then(|r| r.split_once("]:")) {
        Some((c, b)) => (c.trim().to_string(), b.to_string()),
        None => (String::new(), rest.clone()),
    };
    let hook = command
        .rsplit('/')
        .next()
        .filter(|h| !h.is_empty())
        .unwrap_or("Stop hook")
        .to_string();
    // Headings say what the hook checks; the first that is not a progress line is its rule.
    let lines: Vec<&str> = body
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let heading = lines
        .iter()
        .filter_map(|l| {
            l.strip_prefix('#')
                .map(|h| h.trim_start_matches('#').trim())
        })
        .find(|h| !h.ends_with("...") && !h.to_lowercase().starts_with("running"))
        .unwrap_or("")
        .to_string();
    let said: Vec<&str> = lines
        .iter()
        .copied()
        .filter(|l| !l.starts_with('#') && !l.starts_with("---"))
        // A list of files is this occurrence's, not the rule's.
        .filter(|l| !looks_like_path(l))
        .collect();
    if said.is_empty() {
        return None;
    }
    let body = cut(&collapse(&said.join(" ")), 360);
    let text = format!(
        "The Stop hook `{hook}` blocks stopping{}: {}",
        if heading.is_empty() {
            String::new()
        } else {
            format!(" ({heading})")
        },
        v.generalize(&body)
    );
    let first = said.first().copied().unwrap_or("");
    let key = format!(
        "stop:{hook}:{}:{}",
        heading.to_lowercase(),
        class_of(first, v)
    );
    Some((key, "Hooks".into(), text))
}

fn looks_like_path(l: &str) -> bool {
    !l.contains(' ') && (l.contains('/') || l.starts_with('.') || l.contains('.'))
}

/// `<system-reminder>\nPostToolUse:Edit hook additional context: [CHECKER]\n[F] → path:1:2
/// message` → one rule per checker and message class.
fn additional_context(text: &str, v: &Volatile) -> Vec<(String, String, String)> {
    static LOCATION: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"^\s*(?:\[\w\]\s*)?[↘↗→←↑↓]?\s*\S+:\d+(?::\d+)?\s*").expect("a valid regex")
    });
    let mut out = Vec::new();
    let Some(c) = CONTEXT.captures(text) else {
        return out;
    };
    let event = c[1].to_string();
    let tool = c[2].to_string();
    let checker = c.get(3).map_or("", |m| m.as_str()).trim().to_string();
    // A compile error is about the code being edited, not a rule of the project.
    if checker.to_uppercase().contains("COMPILE") {
        return out;
    }
    let body_start = c.get(0).map_or(0, |m| m.end());
    let body = text[body_start..]
        .split("</system-reminder>")
        .next()
        .unwrap_or("");
    for line in body
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .take(6)
    {
        let message = LOCATION.replace(line, "").trim().to_string();
        if message.len() < 12
            || message.starts_with("Compiling")
            || message.contains('│')
            || message.starts_with(|c: char| c.is_ascii_digit())
        {
            continue;
        }
        let rule = format!(
            "A {event} hook runs after `{tool}`{} and reports: {}",
            if checker.is_empty() {
                String::new()
            } else {
                format!(" ([{checker}])")
            },
            cut(&v.generalize(&message), 240)
        );
        let key = format!("ctx:{event}:{checker}:{}", class_of(&message, v));
        out.push((key, "Hooks".into(), rule));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stop_hook_rule_without_its_file_list() {
        // DRMacIver__claude-reliability…coverage-test-fix_transcript.jsonl:26
        let t = "Stop hook feedback:\n[${CLAUDE_PLUGIN_ROOT}/scripts/hooks/stop.sh]: # Running Quality Checks...\n\n# Uncommitted Changes Detected\n\nCannot exit with untracked files.\n\n## Untracked Files\n\nThe following files are not tracked by git:\n\n  .coverage\n  src/__pycache__/x.pyc\n";
        let (key, _, text) = stop_hook(t, &Volatile::default()).unwrap();
        assert!(
            key.starts_with("stop:stop.sh:uncommitted changes detected:"),
            "{key}"
        );
        assert!(text.contains("Cannot exit with untracked files."), "{text}");
        assert!(!text.contains("pycache"), "{text}");
        assert!(stop_hook("please stop", &Volatile::default()).is_none());
    }

    #[test]
    fn hook_context_rules_by_checker_and_class() {
        // marot__spotter…8463…_agent-acompact-f46190.jsonl:5
        let t = "<system-reminder>\nPostToolUse:Edit hook additional context: [CREDO]\n[F] → lib/spotter_web/live/session_live.ex:600:8 Function is too complex (cyclomatic complexity is 10, max is 9).\n</system-reminder>";
        let got = additional_context(t, &Volatile::default());
        assert_eq!(got.len(), 1);
        assert_eq!(
            got[0].2,
            "A PostToolUse hook runs after `Edit` ([CREDO]) and reports: Function is too complex (cyclomatic complexity is 10, max is 9)."
        );
        assert!(additional_context("no hook here", &Volatile::default()).is_empty());
    }
}

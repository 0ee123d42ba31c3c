//! Lessons from compaction summaries: when Claude Code compacts a long session it writes a
//! summary whose "Errors and fixes" section is the model's own reflection on what went wrong
//! and what fixed it (`Cannot find module '@chkit/core' … After running bun install, the
//! modules resolved`). Each item that names a fix becomes a lesson; items that only report a
//! failure still open ("the current blocking problem") do not.
//!
//! A summary restates the session, so nothing else of it is read: its other sections repeat
//! what the other extractors take from the events themselves. A malformed summary (no such
//! section, no items) yields nothing.

use std::sync::LazyLock;

use regex::Regex;
use reverie_core::curation::EntryKind;
use reverie_core::session::EventKind;

use super::util::{Ctx, LESSONS, collapse, cut};
use crate::candidate::Candidate;

/// The lessons of every compaction summary of a session.
pub(crate) fn extract(ctx: &Ctx) -> Vec<Candidate> {
    let mut out = Vec::new();
    for (i, e) in ctx.events().iter().enumerate() {
        let Some(text) = e.text.as_deref() else {
            continue;
        };
        if !is_summary(e) {
            continue;
        }
        for item in errors_and_fixes(text) {
            let item = ctx.volatile.generalize(&item);
            if item.contains("[REDACTED") {
                continue;
            }
            out.push(ctx.candidate(
                EntryKind::Lesson,
                format!("{} (from a session summary)", cut(&item, 420)),
                LESSONS,
                vec!["Errors and fixes".into()],
                &[(i, item.clone())],
                "an error and its fix, as the session's compaction summary tells it",
            ));
        }
    }
    out
}

/// Whether an event is a compaction summary.
fn is_summary(e: &reverie_core::session::Event) -> bool {
    e.kind == EventKind::Summary
        || e.kind == EventKind::User
            && e.text.as_deref().is_some_and(|t| {
                t.trim_start()
                    .starts_with("This session is being continued from a previous conversation")
            })
}

/// Compaction summaries of a session that could not be read: empty, or with an "Errors and
/// fixes" heading and no item under it. Counted, never a candidate.
pub(crate) fn unreadable(ctx: &Ctx) -> usize {
    ctx.events()
        .iter()
        .filter(|e| is_summary(e))
        .filter(|e| {
            let text = e.text.as_deref().unwrap_or("");
            text.trim().is_empty() || section(text).is_some_and(|s| items(s).is_empty())
        })
        .count()
}

/// The items of a summary's "Errors and fixes" section that name a fix.
pub(crate) fn errors_and_fixes(summary: &str) -> Vec<String> {
    static FIXED: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"(?i)\bfix(?:ed)?\b|\bresolved\b|\bworkaround\b|\bafter running\b|\bused\b|\bby (?:running|adding|using|reading|changing|extracting|updating|removing)\b|\brelaunched\b|\bchanged\b|\badded\b|\bextracted\b|\bswitched\b")
            .expect("a valid regex")
    });
    static OPEN: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"(?i)current blocking|still (?:fail|failing|broken)|not yet|pending|unresolved")
            .expect("a valid regex")
    });
    let Some(section) = section(summary) else {
        return Vec::new();
    };
    items(section)
        .into_iter()
        .map(|i| collapse(&i.replace("**", "")))
        .filter(|i| FIXED.is_match(i) && !OPEN.is_match(i) && i.split_whitespace().count() >= 6)
        .collect()
}

/// A summary's "Errors and fixes" section, up to the next heading.
fn section(summary: &str) -> Option<&str> {
    static HEADING: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"(?mi)^\s*(?:\d+\.\s*|#+\s*)?\**errors? and (?:fixes|solutions)\**:?\s*$")
            .expect("a valid regex")
    });
    static NEXT: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"(?m)^\s*(?:\d+\.\s+\S|#+\s)").expect("a valid regex"));
    let h = HEADING.find(summary)?;
    let rest = &summary[h.end()..];
    Some(match NEXT.find(rest) {
        Some(n) => &rest[..n.start()],
        None => rest,
    })
}

/// A section's items: `- ` lines, their continuation lines (indented deeper) joined to them.
fn items(section: &str) -> Vec<String> {
    let mut items: Vec<String> = Vec::new();
    let mut indent = usize::MAX;
    for line in section.lines() {
        let t = line.trim_start();
        if t.is_empty() {
            continue;
        }
        let depth = line.len() - t.len();
        if let Some(body) = t.strip_prefix("- ").or(t.strip_prefix("* "))
            && depth <= indent
        {
            indent = depth;
            items.push(body.to_string());
            continue;
        }
        if let Some(last) = items.last_mut() {
            last.push(' ');
            last.push_str(t);
        }
    }
    items
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_that_name_a_fix() {
        // obsessiondb__chkit__fa_02322a2710_0_full.jsonl:308, shortened.
        let s = "Summary:\n1. Primary Request\n   x\n\n4. Errors and Fixes:\n   - **Turbo not found**: `bun run typecheck` failed with \"Could not locate executable `turbo`\". Fixed by running `bun install` first.\n   - **Plugin test failures (14 fail)**: Tests fail. This is the current blocking problem.\n     more text\n\n5. Problem Solving:\n   - Fixed everything else by hand.\n";
        let got = errors_and_fixes(s);
        assert_eq!(
            got,
            [
                "Turbo not found: `bun run typecheck` failed with \"Could not locate executable `turbo`\". Fixed by running `bun install` first."
            ]
        );
        assert!(errors_and_fixes("no sections here").is_empty());
        assert!(errors_and_fixes("4. Errors and fixes:\n").is_empty());
    }
}

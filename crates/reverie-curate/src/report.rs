//! The changeset for people: every operation on one line with its reason and evidence, then
//! each memory's change as a unified diff.

use std::fmt::Write;

use reverie_core::counted;
use reverie_core::curation::{Changeset, Op, OpKind};

/// A short sign per operation, so a long changeset can be scanned.
fn sign(op: OpKind) -> &'static str {
    match op {
        OpKind::Add => "+",
        OpKind::Merge => "⇢",
        OpKind::Rewrite => "~",
        OpKind::Supersede => "×",
        OpKind::Archive => "-",
        OpKind::Keep => "!",
    }
}

fn clip(s: &str, n: usize) -> String {
    let one_line = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() <= n {
        one_line
    } else {
        let cut: String = one_line.chars().take(n.saturating_sub(1)).collect();
        format!("{cut}…")
    }
}

/// One operation, as a few lines of text.
pub fn op_lines(op: &Op) -> String {
    let mut out = String::new();
    let place = if op.section.is_empty() {
        op.path.clone()
    } else {
        format!("{} › {}", op.path, op.section.join(" › "))
    };
    let text = op.after.as_deref().or(op.before.as_deref()).unwrap_or("");
    let _ = writeln!(out, "{} {:<9} {place}", sign(op.op), op.op.as_str());
    match op.op {
        OpKind::Rewrite => {
            let _ = writeln!(
                out,
                "      was: {}",
                clip(op.before.as_deref().unwrap_or(""), 100)
            );
            let _ = writeln!(
                out,
                "      now: {}",
                clip(op.after.as_deref().unwrap_or(""), 100)
            );
        }
        _ => {
            let _ = writeln!(out, "      {}", clip(text, 110));
        }
    }
    let _ = writeln!(out, "      why: {}", clip(&op.reason, 110));
    if !op.evidence.is_empty() {
        let ev: Vec<String> = op
            .evidence
            .iter()
            .take(3)
            .map(|e| format!("{} #{}", e.session_id, e.seq))
            .collect();
        let more = op.evidence.len().saturating_sub(3);
        let _ = writeln!(
            out,
            "      from: {}{}",
            ev.join(", "),
            if more > 0 {
                format!(" (+{more} more)")
            } else {
                String::new()
            }
        );
    }
    if !op.flags.is_empty() {
        let _ = writeln!(out, "      FLAGGED: {}", op.flags.join(", "));
    }
    out
}

/// The whole changeset's operations, grouped by kind, with a summary line first.
pub fn summary(cs: &Changeset) -> String {
    let mut out = String::new();
    let count = |k: OpKind| cs.ops_of(k).count();
    let s = &cs.stats;
    let skipped = if s.skipped > 0 {
        format!(
            " ({} unreadable summaries or hook lines skipped)",
            s.skipped
        )
    } else {
        String::new()
    };
    let _ = writeln!(
        out,
        "{} ({}) read; {}{skipped}; entries {} → {}; {} → {} bytes (budget {})",
        counted(s.sessions, "session"),
        counted(s.events, "event"),
        counted(s.candidates, "candidate"),
        s.entries_before,
        s.entries_after,
        s.bytes_before,
        s.bytes_after,
        s.budget_bytes
    );
    let _ = writeln!(
        out,
        "{} added, {} merged, {} rewritten, {} superseded, {} archived, {} held; {} memories changed",
        count(OpKind::Add),
        count(OpKind::Merge),
        count(OpKind::Rewrite),
        count(OpKind::Supersede),
        count(OpKind::Archive),
        count(OpKind::Keep),
        cs.memories.len()
    );
    if let Some(run) = &cs.curator {
        out.push_str(&curator_line(run));
    }
    for kind in [
        OpKind::Keep,
        OpKind::Supersede,
        OpKind::Merge,
        OpKind::Rewrite,
        OpKind::Archive,
        OpKind::Add,
    ] {
        for op in cs.ops_of(kind) {
            out.push('\n');
            out.push_str(&op_lines(op));
        }
    }
    out
}

/// A unified diff of one memory, from `before` to `after` (either may be absent).
pub fn diff(path: &str, before: Option<&str>, after: Option<&str>) -> String {
    let (a, b) = (before.unwrap_or(""), after.unwrap_or(""));
    let old = if before.is_some() {
        format!("a{path}")
    } else {
        "/dev/null".to_string()
    };
    let new = if after.is_some() {
        format!("b{path}")
    } else {
        "/dev/null".to_string()
    };
    similar::TextDiff::from_lines(a, b)
        .unified_diff()
        .context_radius(2)
        .header(&old, &new)
        .to_string()
}

/// What the curator did, when it was not the deterministic curator as asked: which curator
/// ran (and why, after a fallback), its requests and tokens, its cost, and what the guard
/// refused of what it proposed.
pub fn curator_line(run: &reverie_core::curation::CuratorRun) -> String {
    let mut out = String::new();
    match (&run.requested, &run.note) {
        (Some(req), Some(note)) => {
            let _ = writeln!(out, "curator: {} (asked for {req}: {note})", run.curator);
        }
        _ => {
            let u = &run.usage;
            let cached = if run.cached > 0 {
                format!(", {} answered from an earlier attempt", run.cached)
            } else {
                String::new()
            };
            let cost = run
                .cost_usd
                .map(|c| format!(", ${c:.4}"))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "curator: {} — {}{cached}; {} input tokens ({} cache write, {} cache read), {} output tokens{cost}",
                run.curator,
                counted(run.requests, "request"),
                u.input_tokens,
                u.cache_creation_input_tokens,
                u.cache_read_input_tokens,
                u.output_tokens,
            );
        }
    }
    if !run.rejected.is_empty() {
        let _ = writeln!(
            out,
            "{} the model proposed refused by the guard:",
            counted(run.rejected.len() as i64, "operation")
        );
        for r in &run.rejected {
            let what = r
                .text
                .as_deref()
                .or(r.targets.first().map(String::as_str))
                .unwrap_or("");
            let what: String = what.chars().take(100).collect();
            let _ = writeln!(out, "  ✗ {} {what:?}: {}", r.op, r.reason);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use reverie_core::curation::{Evidence, Stats};

    #[test]
    fn a_changeset_reads_as_text() {
        let cs = Changeset {
            base_revision: 3,
            ops: vec![Op {
                op: OpKind::Supersede,
                entry_id: "ent_01a".into(),
                path: "/facts.md".into(),
                section: vec!["tallyho".into()],
                before: Some("The staging database is on port 5432.".into()),
                after: None,
                sources: vec!["ent_01b".into()],
                reason: "contradicted by newer evidence".into(),
                evidence: vec![Evidence {
                    session_id: "sesn_01x".into(),
                    seq: 12,
                    quote: String::new(),
                }],
                flags: Vec::new(),
            }],
            memories: Vec::new(),
            stats: Stats::default(),
            curator: None,
        };
        let text = summary(&cs);
        assert!(text.contains("× supersede /facts.md › tallyho"), "{text}");
        assert!(
            text.contains("port 5432") && text.contains("from: sesn_01x #12"),
            "{text}"
        );
        assert!(text.contains("1 superseded"), "{text}");
        let d = diff("/facts.md", Some("a\nb\n"), Some("a\nc\n"));
        assert!(
            d.contains("--- a/facts.md") && d.contains("-b") && d.contains("+c"),
            "{d}"
        );
    }
}

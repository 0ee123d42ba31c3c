//! `reverie drift`: what dreams did to a store over time, and whether anything load-bearing
//! was lost — as a report for people, or JSON, with an exit code for cron and CI.
//!
//! The analysis is `reverie_curate::drift`, its inputs loaded by `reverie_dream::drift`; this
//! module renders the report and picks the exit code.

use anyhow::Result;
use reverie_core::MemoryStore;
use reverie_core::curation::OpKind;
use reverie_curate::drift::{DreamDrift, DreamState, DriftReport, Lineage, LineageState, OpCounts};

use crate::cli::DriftArgs;
use crate::context::Ctx;
use crate::output::{emit, json, safe};

/// The exit code when something load-bearing was lost, so that a scheduled run alerts. It is
/// also the code of a storage failure (`exit::FAILURE`): both need a person, and `--json`
/// tells them apart (a report, or an error body).
pub const LOAD_BEARING_LOST: i32 = 1;

/// Changes listed per dream in the text report unless `--full`.
const CHANGES_SHOWN: usize = 12;

pub async fn run(ctx: &Ctx, a: DriftArgs) -> Result<i32> {
    let st = ctx.store_ref(&a.store.store).await?;
    let report =
        reverie_dream::drift::report(ctx.store.as_ref(), &st, a.since.as_deref(), a.min_helpful)
            .await?;
    if ctx.json {
        json(&report);
    } else {
        render(&st, a.since.as_deref(), &report, a.full);
    }
    Ok(if report.has_load_bearing_loss() {
        LOAD_BEARING_LOST
    } else {
        0
    })
}

fn clip(s: &str, n: usize) -> String {
    let one_line = safe(&s.split_whitespace().collect::<Vec<_>>().join(" "));
    if one_line.chars().count() <= n {
        one_line
    } else {
        let cut: String = one_line.chars().take(n.saturating_sub(1)).collect();
        format!("{cut}…")
    }
}

fn counts(o: &OpCounts) -> String {
    let mut parts: Vec<String> = [
        (o.add, "added"),
        (o.merge, "merged"),
        (o.rewrite, "rewritten"),
        (o.supersede, "superseded"),
        (o.archive, "archived"),
        (o.keep, "held"),
        (o.index, "index lines"),
    ]
    .iter()
    .filter(|(n, _)| *n > 0)
    .map(|(n, what)| format!("{n} {what}"))
    .collect();
    if parts.is_empty() {
        parts.push("no changes".into());
    }
    parts.join(", ")
}

fn past(op: OpKind) -> &'static str {
    match op {
        OpKind::Add => "added",
        OpKind::Merge => "merged",
        OpKind::Rewrite => "rewritten",
        OpKind::Supersede => "superseded",
        OpKind::Archive => "archived",
        OpKind::Keep => "kept",
    }
}

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

fn render(st: &MemoryStore, since: Option<&str>, r: &DriftReport, full: bool) {
    let window = match (since, r.since_revision) {
        (Some(s), Some(rev)) if s.parse::<i64>().is_err() => {
            format!("since {s} (after revision {rev})")
        }
        (_, Some(rev)) => format!("since revision {rev}"),
        _ => "over its whole history".into(),
    };
    let s = &r.summary;
    emit(&format!("drift of {} ({}) {window}", safe(&st.name), st.id));
    emit(&format!(
        "  dreams:   {} applied, {} reverted, {} awaiting review",
        s.dreams_applied, s.dreams_reverted, s.dreams_pending
    ));
    emit(&format!("  changes:  {}", counts(&s.ops)));
    emit(&format!(
        "  lineages: {} changed, {} lost, {} load-bearing lost; {} detail tokens lost{}",
        s.lineages,
        s.lost,
        s.load_bearing_lost,
        s.details_lost,
        if s.removed_outside_dreams > 0 {
            format!("; {} removed outside a dream", s.removed_outside_dreams)
        } else {
            String::new()
        }
    ));
    if s.regressions > 0 {
        emit(&format!(
            "  regressions: {} lost lesson{} whose failure came back",
            s.regressions,
            if s.regressions == 1 { "" } else { "s" }
        ));
    }
    let c = &r.churn;
    emit(&format!(
        "  churn:    {} added then removed, {} rewritten more than once; ops per dream: max {}, mean {:.1}",
        c.added_then_removed.len(),
        c.rewritten_more_than_once.len(),
        c.ops_per_dream_max,
        c.ops_per_dream_mean
    ));

    let lb: Vec<&Lineage> = r.lineages.iter().filter(|l| l.load_bearing_lost).collect();
    emit("");
    if lb.is_empty() {
        emit("nothing load-bearing was lost");
    } else {
        emit(&format!("LOAD-BEARING LOSSES ({})", lb.len()));
        for l in lb {
            lineage_block(st, l);
        }
    }
    let other: Vec<&Lineage> = r
        .lineages
        .iter()
        .filter(|l| l.lost && !l.load_bearing_lost)
        .collect();
    if !other.is_empty() {
        emit("");
        emit(&format!("other losses ({}, not load-bearing)", other.len()));
        for l in other {
            emit(&format!(
                "  {} {} {}: {}{}",
                l.state.as_str(),
                l.id,
                safe(&l.path),
                clip(&l.first_text, 80),
                if l.details_lost.is_empty() || l.state != LineageState::Live {
                    String::new()
                } else {
                    format!(" (lost {})", detail_list(l))
                }
            ));
        }
    }
    let replaced: Vec<&Lineage> = r
        .lineages
        .iter()
        .filter(|l| !l.lost && !l.details_superseded.is_empty())
        .collect();
    if !replaced.is_empty() {
        emit("");
        emit(&format!(
            "superseded by newer evidence ({}; recorded and restorable, not counted as losses)",
            replaced.len()
        ));
        for l in replaced {
            let old: Vec<String> = l
                .details_superseded
                .iter()
                .map(|d| format!("{:?}", d.text))
                .collect();
            emit(&format!(
                "  {} {}: {} replaced; now: {}",
                l.id,
                safe(&l.path),
                old.join(", "),
                clip(l.current_text.as_deref().unwrap_or(""), 70)
            ));
        }
    }
    if !r.dreams.is_empty() {
        emit("");
        emit("changes by dream");
        for d in &r.dreams {
            dream_block(d, full);
        }
    }
    if !r.pending.is_empty() {
        emit("");
        emit("awaiting review (not applied; not counted)");
        for d in &r.pending {
            dream_block(d, full);
        }
    }
}

fn detail_list(l: &Lineage) -> String {
    l.details_lost
        .iter()
        .map(|d| format!("{:?}", d.text))
        .collect::<Vec<_>>()
        .join(", ")
}

fn lineage_block(st: &MemoryStore, l: &Lineage) {
    let last = l
        .steps
        .last()
        .map(|s| format!("{} by {} (revision {})", past(s.op), s.dream_id, s.revision));
    let how = match (
        l.removed_outside_dreams && l.state != LineageState::Live,
        last,
    ) {
        (true, Some(last)) => format!("removed outside a dream; before that {last}"),
        (_, None) => "removed outside a dream".into(),
        (false, Some(last)) => format!("last {last}"),
    };
    emit(&format!(
        "✗ {} {} — {}; {how}",
        l.id,
        safe(&l.path),
        l.state.as_str()
    ));
    emit(&format!("    was: {}", clip(&l.first_text, 100)));
    match &l.current_text {
        Some(t) => emit(&format!("    now: {}", clip(t, 100))),
        None => emit(&format!(
            "    now: not served (restore: reverie entries restore -s {} {})",
            st.id, l.id
        )),
    }
    let why: Vec<String> = l.load_bearing.iter().map(|b| b.describe()).collect();
    emit(&format!("    load-bearing: {}", why.join("; ")));
    if !l.details_lost.is_empty() {
        emit(&format!("    details lost: {}", detail_list(l)));
    }
    for x in l
        .lessons
        .iter()
        .filter(|x| !x.recurred_after_loss.is_empty())
    {
        let n = x.recurred_after_loss.len();
        emit(&format!(
            "    failed again after it was lost: `{}` in {n} session{} ({})",
            clip(&x.signature, 80),
            if n == 1 { "" } else { "s" },
            x.recurred_after_loss.join(", ")
        ));
    }
    if l.dreams.len() > 1 {
        emit(&format!("    dreams: {}", l.dreams.join(" → ")));
    }
}

fn dream_block(d: &DreamDrift, full: bool) {
    let at = d
        .applied_at
        .map(|t| format!(", {}", &t.to_rfc3339()[..19]))
        .unwrap_or_default();
    let head = match (d.state, d.applied_revision, d.reverted_revision) {
        (DreamState::Reverted, Some(a), Some(r)) => {
            format!("revision {a}{at}, reverted by revision {r}: not counted")
        }
        (_, Some(a), _) => format!("revision {a}{at}"),
        _ => "pending review".into(),
    };
    emit(&format!("  {} ({head}): {}", d.dream_id, counts(&d.ops)));
    let shown = if full { d.changes.len() } else { CHANGES_SHOWN };
    for c in d.changes.iter().take(shown) {
        emit(&format!(
            "    {} {:<9} {} {}{}",
            sign(c.op),
            c.op.as_str(),
            safe(&c.path),
            clip(c.text.as_deref().unwrap_or(""), 70),
            if c.flags.is_empty() {
                String::new()
            } else {
                format!(" [{}]", c.flags.join(", "))
            }
        ));
    }
    if d.changes.len() > shown {
        emit(&format!(
            "    … {} more (--full, or --json)",
            d.changes.len() - shown
        ));
    }
}

//! `reverie curve`: the failure curve of a store — whether the lessons its dreams keep stop
//! the failures they are about — as a report for people (a sparkline of each session's
//! repeat rate with the dreams marked, the sessions, the most frequent error signatures), or
//! JSON; and `reverie ceiling`: the errors notes did not fix, exported for a fine-tune. The
//! analysis is `reverie_curate::curve`, its inputs loaded by `reverie_dream::curve`.

use anyhow::Result;
use reverie_core::Timestamp;
use reverie_curate::curve::{Curve, sparkline};

use crate::cli::{CeilingArgs, CurveArgs};
use crate::context::Ctx;
use crate::output::{emit, json, safe, table};

pub async fn run(ctx: &Ctx, a: CurveArgs) -> Result<i32> {
    let st = ctx.store_ref(&a.store.store).await?;
    let since = reverie_dream::curve::since(a.since.as_deref())?;
    let curve = reverie_dream::curve::report(ctx.store.as_ref(), &st, since).await?;
    if let Some(path) = &a.svg {
        std::fs::write(path, reverie_curate::curve::svg(&curve, &st.name)).map_err(|e| {
            reverie_core::Error::invalid("svg", format!("cannot write {}: {e}", path.display()))
        })?;
    }
    if ctx.json {
        json(&curve);
    } else {
        render(&st.name, &curve, a.top);
    }
    Ok(0)
}

/// The widest sparkline, in columns.
const WIDTH: usize = 80;

fn day(t: Option<Timestamp>) -> String {
    t.map(|t| t.to_rfc3339()[..16].replace('T', " "))
        .unwrap_or_else(|| "?".into())
}

fn render(name: &str, c: &Curve, top: usize) {
    emit(&format!(
        "failure curve of {}: {} sessions, {} failed tool calls, {} repeats of an earlier \
         session's error ({} with its lesson in memory, {} with it served)",
        safe(name),
        c.points.len(),
        c.errors,
        c.repeats,
        c.with_lesson,
        c.served
    ));
    if c.points.is_empty() {
        return;
    }
    // At most WIDTH columns: each the mean rate of its sessions, marked when a dream came
    // before any of them.
    let per = c.points.len().div_ceil(WIDTH);
    let rates: Vec<f64> = c
        .points
        .chunks(per)
        .map(|g| g.iter().map(|p| p.repeat_rate).sum::<f64>() / g.len() as f64)
        .collect();
    let marks: String = c
        .points
        .chunks(per)
        .map(|g| {
            if g.iter().any(|p| !p.dreams_before.is_empty()) {
                '^'
            } else {
                ' '
            }
        })
        .collect();
    emit(&format!("repeat rate  {}", sparkline(&rates)));
    emit(&format!("dreams       {}", marks.trim_end()));
    if per > 1 {
        emit(&format!("             (each column: {per} sessions)"));
    }
    let learned = c
        .signatures
        .iter()
        .filter(|s| s.lesson_dream.is_some())
        .count();
    emit(&format!(
        "repeats per later session, over the {learned} errors that got a lesson: {:.2} before \
         it was in memory, {:.2} after",
        c.repeat_rate_before_lesson, c.repeat_rate_after_lesson
    ));
    emit("");
    let mut rows = vec![vec![
        "session".to_string(),
        "started".into(),
        "errors".into(),
        "repeats".into(),
        "lesson in memory".into(),
        "served".into(),
        "dreams before".into(),
    ]];
    for p in &c.points {
        rows.push(vec![
            p.session_id.clone(),
            day(p.started_at),
            p.errors.to_string(),
            p.repeats.to_string(),
            p.with_lesson.to_string(),
            p.served.to_string(),
            p.dreams_before.join(" "),
        ]);
    }
    table(&rows);
    if c.signatures.is_empty() {
        return;
    }
    emit("");
    emit(&format!(
        "errors by signature (the {} most frequent):",
        top.min(c.signatures.len())
    ));
    for s in c.signatures.iter().take(top) {
        let lesson = match (&s.lesson_dream, s.lesson_at) {
            (Some(d), at) => format!(
                "lesson by {d} ({}): {} repeats in {} sessions before, {} in {} after{}",
                day(at),
                s.repeats_before_lesson,
                s.sessions_before_lesson,
                s.repeats_after_lesson,
                s.sessions_after_lesson,
                if s.failed_when_served > 0 {
                    format!(
                        "; failed in {} sessions that served it",
                        s.failed_when_served
                    )
                } else {
                    String::new()
                }
            ),
            (None, _) => "no lesson in memory".into(),
        };
        emit(&format!(
            "  {}× in {} sessions, first {}: {}\n      {lesson}",
            s.occurrences,
            s.sessions,
            day(s.first_seen),
            safe(&s.signature)
        ));
    }
}

pub async fn ceiling(ctx: &Ctx, a: CeilingArgs) -> Result<i32> {
    use reverie_curate::curve::{TuneFormat, fine_tuning};
    let st = ctx.store_ref(&a.store.store).await?;
    let min = usize::try_from(a.min).unwrap_or(usize::MAX);
    let ceilings = reverie_dream::curve::ceilings(ctx.store.as_ref(), &st, min).await?;
    let examples: usize = ceilings.iter().map(|c| c.examples.len()).sum();
    if let Some(path) = &a.export {
        let format = if a.format == "anthropic" {
            TuneFormat::Anthropic
        } else {
            TuneFormat::OpenAi
        };
        std::fs::write(path, fine_tuning(&ceilings, format)).map_err(|e| {
            reverie_core::Error::invalid("export", format!("cannot write {}: {e}", path.display()))
        })?;
        eprintln!(
            "reverie: {examples} examples written to {} ({} format)",
            path.display(),
            a.format
        );
    }
    if ctx.json {
        json(&ceilings);
        return Ok(0);
    }
    emit(&format!(
        "errors of {} that recurred in at least {} sessions served their lesson: {}",
        safe(&st.name),
        a.min,
        ceilings.len()
    ));
    for c in &ceilings {
        emit(&format!(
            "  {}\n      {}× in all; failed in {} sessions that served its lesson ({}); {} \
             examples{}",
            safe(&c.signature),
            c.occurrences,
            c.failed_when_served,
            c.sessions.join(" "),
            c.examples.len(),
            if c.terms.is_empty() {
                String::new()
            } else {
                format!("; glossary candidates: {}", safe(&c.terms.join(", ")))
            }
        ));
    }
    Ok(0)
}

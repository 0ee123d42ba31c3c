//! The failure curve of a store, without I/O: do the lessons a store keeps stop the failures
//! they are about? Sessions in time order; each one's failed tool calls by signature
//! ([`crate::signature`], the lesson extractor's own); which were *repeats* (the signature
//! failed in an earlier session), which of those had a lesson in memory at the time (a dream
//! applied before the session was brought in had added an entry resting on that signature's
//! failure), and which had that lesson served in the session. Per signature: first seen, the dream that
//! added its lesson, occurrences before and after.
//!
//! A lesson is an entry an applied dream's `add`, `merge` or `rewrite` produced with evidence
//! citing a failed call of the signature; it stays in memory until an op archives or
//! supersedes it ([`Lessons`], which drift and `reverie bench curve` read too).

use std::collections::{BTreeMap, BTreeSet};

use reverie_core::Timestamp;
use reverie_core::curation::Changeset;
use serde::Serialize;

use crate::extract::failures;
use crate::input::{Serving, SessionInput};

mod lessons;

pub use lessons::{FailureLog, Lessons, Life};

/// An applied dream as the curve reads it.
#[derive(Debug, Clone)]
pub struct AppliedDream {
    pub id: String,
    /// When its result reached the memory.
    pub at: Timestamp,
    /// Shared with the store's cache of parsed changesets.
    pub changeset: std::sync::Arc<Changeset>,
}

/// What [`analyze`] reads.
#[derive(Debug, Clone, Copy)]
pub struct CurveInput<'a> {
    /// Every session of the store, in any order.
    pub sessions: &'a [SessionInput],
    /// The dreams whose result is in the memory (completed, applied, not reverted).
    pub dreams: &'a [AppliedDream],
    pub servings: &'a [Serving],
    /// Only sessions that started at or after this count as points (earlier ones still make
    /// later failures repeats).
    pub since: Option<Timestamp>,
}

/// One session's point on the curve.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Point {
    pub session_id: String,
    pub started_at: Option<Timestamp>,
    /// Failed tool calls.
    pub errors: usize,
    /// Of those, failures whose signature failed in an earlier session.
    pub repeats: usize,
    /// Of the repeats, those with a lesson in memory when the session started.
    pub with_lesson: usize,
    /// Of those, the ones whose lesson was served during the session.
    pub served: usize,
    /// `repeats / errors` (0 without errors).
    pub repeat_rate: f64,
    /// Dreams applied since the previous session (marks on the curve).
    pub dreams_before: Vec<String>,
}

/// One signature's history.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SignatureHistory {
    pub signature: String,
    pub first_session: String,
    pub first_seen: Option<Timestamp>,
    /// Sessions it failed in, and failures in all.
    pub sessions: usize,
    pub occurrences: usize,
    /// The dream that first put a lesson about it in memory, and when.
    pub lesson_dream: Option<String>,
    pub lesson_at: Option<Timestamp>,
    /// Failures in later sessions while no lesson about it was in memory, and while one was.
    pub repeats_before_lesson: usize,
    pub repeats_after_lesson: usize,
    /// Later sessions (after its first) that started without the lesson, and with it: what
    /// the repeats above are counted over.
    pub sessions_before_lesson: usize,
    pub sessions_after_lesson: usize,
    /// Sessions in which it failed although its lesson was served in them.
    pub failed_when_served: usize,
    /// Those sessions.
    pub failed_when_served_in: Vec<String>,
}

/// The whole curve.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Curve {
    pub points: Vec<Point>,
    pub signatures: Vec<SignatureHistory>,
    pub errors: usize,
    pub repeats: usize,
    pub with_lesson: usize,
    pub served: usize,
    /// Over the signatures that got a lesson: their repeats per later session before the
    /// lesson existed, and after — the curve's before and after.
    pub repeat_rate_before_lesson: f64,
    pub repeat_rate_after_lesson: f64,
}

fn ratio(n: usize, d: usize) -> f64 {
    if d == 0 { 0.0 } else { n as f64 / d as f64 }
}

/// The failure curve of a store's sessions.
pub fn analyze(input: &CurveInput<'_>) -> Curve {
    let mut sessions: Vec<&SessionInput> = input.sessions.iter().collect();
    let start = |s: &SessionInput| s.session.started_at.unwrap_or(s.session.created_at);
    sessions.sort_by(|a, b| {
        start(a)
            .cmp(&start(b))
            .then_with(|| a.session.id.cmp(&b.session.id))
    });
    let all: Vec<Vec<crate::extract::Failure>> = sessions.iter().map(|s| failures(s)).collect();
    let per_session: Vec<Vec<String>> = all
        .iter()
        .map(|fs| fs.iter().map(|f| f.signature.key()).collect())
        .collect();
    let mut log = FailureLog::default();
    for (s, fs) in sessions.iter().zip(&all) {
        log.add(&s.session.id, s.session.created_at, fs);
    }
    let lessons = Lessons::build(
        input
            .dreams
            .iter()
            .map(|d| (d.id.as_str(), d.at, &*d.changeset)),
        &log,
    );
    let served: BTreeSet<(&str, &str)> = input
        .servings
        .iter()
        .map(|s| (s.session_id.as_str(), s.entry_id.as_str()))
        .collect();
    let mut dream_times: Vec<(Timestamp, &str)> =
        input.dreams.iter().map(|d| (d.at, d.id.as_str())).collect();
    dream_times.sort();

    let mut history: BTreeMap<String, SignatureHistory> = BTreeMap::new();
    let mut points = Vec::new();
    let mut previous: Option<Timestamp> = None;
    for (s, sigs) in sessions.iter().zip(&per_session) {
        // What memory the session had: the dreams applied before it was brought in. (Its
        // start would do for sessions brought in as they end, but not for a history ingested
        // later and dreamed session by session.)
        let t = s.session.created_at;
        let id = s.session.id.as_str();
        let mut point = Point {
            session_id: id.to_string(),
            started_at: s.session.started_at,
            errors: sigs.len(),
            repeats: 0,
            with_lesson: 0,
            served: 0,
            repeat_rate: 0.0,
            dreams_before: dream_times
                .iter()
                .filter(|(at, _)| previous.is_none_or(|p| *at > p) && *at <= t)
                .map(|(_, d)| d.to_string())
                .collect(),
        };
        // Later sessions of every signature seen before: with or without its lesson.
        for h in history.values_mut() {
            if lessons.live_at(&h.signature, t).is_empty() {
                h.sessions_before_lesson += 1;
            } else {
                h.sessions_after_lesson += 1;
            }
        }
        let mut served_sigs: BTreeSet<&str> = BTreeSet::new();
        for sig in sigs {
            let h = history
                .entry(sig.clone())
                .or_insert_with(|| SignatureHistory {
                    signature: sig.clone(),
                    first_session: id.to_string(),
                    first_seen: s.session.started_at,
                    sessions: 0,
                    occurrences: 0,
                    lesson_dream: lessons.first(sig).map(|(d, _)| d.to_string()),
                    lesson_at: lessons.first(sig).map(|(_, at)| at),
                    repeats_before_lesson: 0,
                    repeats_after_lesson: 0,
                    sessions_before_lesson: 0,
                    sessions_after_lesson: 0,
                    failed_when_served: 0,
                    failed_when_served_in: Vec::new(),
                });
            h.occurrences += 1;
            if h.first_session == id {
                continue;
            }
            let live = lessons.live_at(sig, t);
            let was_served = live.iter().any(|e| served.contains(&(id, e)));
            if live.is_empty() {
                h.repeats_before_lesson += 1;
            } else {
                h.repeats_after_lesson += 1;
            }
            if was_served && served_sigs.insert(sig.as_str()) {
                h.failed_when_served += 1;
                h.failed_when_served_in.push(id.to_string());
            }
            point.repeats += 1;
            point.with_lesson += usize::from(!live.is_empty());
            point.served += usize::from(was_served);
        }
        for sig in sigs.iter().collect::<BTreeSet<_>>() {
            if let Some(h) = history.get_mut(sig) {
                h.sessions += 1;
            }
        }
        point.repeat_rate = ratio(point.repeats, point.errors);
        previous = Some(previous.map_or(t, |p| p.max(t)));
        if input.since.is_none_or(|since| start(s) >= since) {
            points.push(point);
        }
    }
    let sum = |f: fn(&Point) -> usize| points.iter().map(f).sum::<usize>();
    let mut signatures: Vec<SignatureHistory> = history.into_values().collect();
    signatures.sort_by(|a, b| {
        b.occurrences
            .cmp(&a.occurrences)
            .then_with(|| a.signature.cmp(&b.signature))
    });
    let learned = || signatures.iter().filter(|h| h.lesson_at.is_some());
    let before = ratio(
        learned().map(|h| h.repeats_before_lesson).sum(),
        learned().map(|h| h.sessions_before_lesson).sum(),
    );
    let after = ratio(
        learned().map(|h| h.repeats_after_lesson).sum(),
        learned().map(|h| h.sessions_after_lesson).sum(),
    );
    Curve {
        errors: sum(|p| p.errors),
        repeats: sum(|p| p.repeats),
        with_lesson: sum(|p| p.with_lesson),
        served: sum(|p| p.served),
        points,
        signatures,
        repeat_rate_before_lesson: before,
        repeat_rate_after_lesson: after,
    }
}

/// A failure that notes did not fix: it recurred in sessions that were served its lesson.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Ceiling {
    pub signature: String,
    pub occurrences: usize,
    pub lesson_dream: Option<String>,
    pub failed_when_served: usize,
    pub sessions: Vec<String>,
    /// Each failure in those sessions with the step that finally worked (none when nothing
    /// later worked).
    pub examples: Vec<crate::extract::Repair>,
    /// Names the error quotes (a module, a command, a flag): what the model may keep
    /// misreading, candidates for the glossary.
    pub terms: Vec<String>,
}

/// The quoted names of an error's signature, placeholders left out.
fn quoted_terms(signature: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for q in ['\'', '`', '"'] {
        let parts: Vec<&str> = signature.split(q).collect();
        // The quoted parts are the odd ones, when the quote is closed.
        for i in (1..parts.len().saturating_sub(1)).step_by(2) {
            let t = parts[i].trim();
            let ok = (2..=60).contains(&t.chars().count())
                && !t.contains('<')
                && !t.contains(char::is_whitespace);
            if ok && !out.iter().any(|o| o == t) {
                out.push(t.to_string());
            }
        }
    }
    out
}

/// The signatures that failed in at least `min` sessions that were served their lesson —
/// the errors that live in the model, not its memory — with examples for a fine-tune.
pub fn ceilings(curve: &Curve, sessions: &[SessionInput], min: usize) -> Vec<Ceiling> {
    let by_id: BTreeMap<&str, &SessionInput> = sessions
        .iter()
        .map(|s| (s.session.id.as_str(), s))
        .collect();
    curve
        .signatures
        .iter()
        .filter(|h| h.failed_when_served >= min.max(1))
        .map(|h| {
            let mut examples = Vec::new();
            for id in &h.failed_when_served_in {
                let Some(s) = by_id.get(id.as_str()) else {
                    continue;
                };
                for f in failures(s)
                    .into_iter()
                    .filter(|f| f.signature.key() == h.signature)
                {
                    examples.extend(crate::extract::repair(s, f.seq));
                }
            }
            Ceiling {
                signature: h.signature.clone(),
                occurrences: h.occurrences,
                lesson_dream: h.lesson_dream.clone(),
                failed_when_served: h.failed_when_served,
                sessions: h.failed_when_served_in.clone(),
                examples,
                terms: quoted_terms(&h.signature),
            }
        })
        .collect()
}

/// A fine-tuning data set's format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TuneFormat {
    /// OpenAI's chat fine-tuning JSONL: `{"messages": [system, user, assistant]}`.
    OpenAi,
    /// Anthropic's (Claude on Amazon Bedrock) fine-tuning JSONL: `{"system": …, "messages":
    /// [user, assistant]}`.
    Anthropic,
}

/// What every example's system prompt says.
const TUNE_SYSTEM: &str =
    "You are a coding agent working in the user's project. Choose the next step.";

/// The examples of `ceilings` as JSON lines in `format`: the context before the failing
/// step as the user's turn, the step that worked as the assistant's.
pub fn fine_tuning(ceilings: &[Ceiling], format: TuneFormat) -> String {
    let mut out = String::new();
    for c in ceilings {
        for e in &c.examples {
            // Only what the agent knew before the failing step: the example teaches the step
            // that works in its place.
            let user = if e.context.trim().is_empty() {
                "Continue the task.".to_string()
            } else {
                e.context.trim().to_string()
            };
            let line = match format {
                TuneFormat::OpenAi => serde_json::json!({"messages": [
                    {"role": "system", "content": TUNE_SYSTEM},
                    {"role": "user", "content": user},
                    {"role": "assistant", "content": e.fixed},
                ]}),
                TuneFormat::Anthropic => serde_json::json!({
                    "system": TUNE_SYSTEM,
                    "messages": [
                        {"role": "user", "content": user},
                        {"role": "assistant", "content": e.fixed},
                    ],
                }),
            };
            out.push_str(&line.to_string());
            out.push('\n');
        }
    }
    out
}

/// `s` escaped for XML text and attributes.
pub(crate) fn xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() && c != '\n' => {}
            c => out.push(c),
        }
    }
    out
}

/// The curve as an SVG picture: each session's repeat rate (a line, a dot per session, its
/// tooltip the session's counts), the dreams as dashed lines before the sessions they
/// preceded, and the before/after rates in the caption.
pub fn svg(curve: &Curve, title: &str) -> String {
    let (w, h, left, right, top, bottom) = (800.0, 260.0, 48.0, 16.0, 36.0, 40.0);
    let n = curve.points.len();
    let x = |i: usize| {
        if n <= 1 {
            left + (w - left - right) / 2.0
        } else {
            left + (w - left - right) * i as f64 / (n - 1) as f64
        }
    };
    let y = |v: f64| top + (h - top - bottom) * (1.0 - v.clamp(0.0, 1.0));
    let mut out = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" \
         viewBox=\"0 0 {w} {h}\" role=\"img\" aria-label=\"{}\" \
         font-family=\"sans-serif\" font-size=\"12\">\n",
        xml(&format!("Failure curve of {title}"))
    );
    out.push_str(&format!(
        "<title>{}</title>\n<rect width=\"{w}\" height=\"{h}\" fill=\"#fff\"/>\n",
        xml(&format!("Failure curve of {title}"))
    ));
    out.push_str(&format!(
        "<text x=\"{left}\" y=\"20\" font-weight=\"bold\">{}</text>\n",
        xml(&format!(
            "{title}: repeated failures per session ({} sessions, {} repeats of {} failures)",
            n, curve.repeats, curve.errors
        ))
    ));
    // Axes and gridlines at 0, 0.5 and 1.
    for v in [0.0, 0.5, 1.0] {
        out.push_str(&format!(
            "<line x1=\"{left}\" x2=\"{}\" y1=\"{y:.1}\" y2=\"{y:.1}\" stroke=\"#ddd\"/>\
             <text x=\"{}\" y=\"{:.1}\" text-anchor=\"end\" fill=\"#555\">{:.0}%</text>\n",
            w - right,
            left - 6.0,
            y(v) + 4.0,
            v * 100.0,
            y = y(v)
        ));
    }
    for (i, p) in curve.points.iter().enumerate() {
        for d in &p.dreams_before {
            let at = if i == 0 {
                x(0) - 6.0
            } else {
                (x(i - 1) + x(i)) / 2.0
            };
            out.push_str(&format!(
                "<line class=\"dream\" x1=\"{at:.1}\" x2=\"{at:.1}\" y1=\"{top}\" y2=\"{}\" \
                 stroke=\"#7a5cc7\" stroke-dasharray=\"4 3\"><title>{}</title></line>\n",
                h - bottom,
                xml(&format!("dream {d}"))
            ));
        }
    }
    let line: Vec<String> = curve
        .points
        .iter()
        .enumerate()
        .map(|(i, p)| format!("{:.1},{:.1}", x(i), y(p.repeat_rate)))
        .collect();
    out.push_str(&format!(
        "<polyline fill=\"none\" stroke=\"#c0392b\" stroke-width=\"2\" points=\"{}\"/>\n",
        line.join(" ")
    ));
    for (i, p) in curve.points.iter().enumerate() {
        out.push_str(&format!(
            "<circle class=\"session\" cx=\"{:.1}\" cy=\"{:.1}\" r=\"3\" fill=\"#c0392b\">\
             <title>{}</title></circle>\n",
            x(i),
            y(p.repeat_rate),
            xml(&format!(
                "{}: {} failures, {} repeats, {} with the lesson in memory, {} served",
                p.session_id, p.errors, p.repeats, p.with_lesson, p.served
            ))
        ));
    }
    out.push_str(&format!(
        "<text x=\"{left}\" y=\"{}\" fill=\"#333\">{}</text>\n</svg>\n",
        h - 12.0,
        xml(&format!(
            "repeats per later session of errors that got a lesson: {:.2} before it, {:.2} after \
             (dashed: dreams)",
            curve.repeat_rate_before_lesson, curve.repeat_rate_after_lesson
        ))
    ));
    out
}

/// A sparkline of `values` in `[0, 1]`, one character each.
pub fn sparkline(values: &[f64]) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    values
        .iter()
        .map(|v| BARS[((v.clamp(0.0, 1.0) * 7.0).round()) as usize])
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::util::build::{ran, session, user};
    use reverie_core::curation::{Evidence, Op, OpKind, Stats};

    const DAY: i64 = 86_400_000_000;

    fn at(day: f64) -> Timestamp {
        Timestamp(1_772_000_000_000_000 + (day * DAY as f64) as i64)
    }

    /// A session on `day` whose `cargo test` fails with `error` (when given), then passes.
    fn day(id: &str, d: f64, error: Option<&str>) -> SessionInput {
        let mut events = vec![user("run the tests")];
        if let Some(e) = error {
            events.extend(ran("t1", "cargo test", e, true));
        }
        events.extend(ran(
            "t2",
            "cargo test --workspace",
            "test result: ok",
            false,
        ));
        let mut s = session(id, events);
        s.session.started_at = Some(at(d));
        s.session.created_at = at(d + 0.1);
        s
    }

    fn op(kind: OpKind, entry: &str, evidence: Vec<Evidence>) -> Op {
        Op {
            op: kind,
            entry_id: entry.into(),
            path: "/lessons.md".into(),
            section: Vec::new(),
            before: None,
            after: (kind == OpKind::Add).then(|| "a lesson".to_string()),
            sources: Vec::new(),
            reason: "test".into(),
            evidence,
            flags: Vec::new(),
        }
    }

    fn dream(id: &str, d: f64, ops: Vec<Op>) -> AppliedDream {
        AppliedDream {
            id: id.into(),
            at: at(d),
            changeset: std::sync::Arc::new(Changeset {
                base_revision: 0,
                ops,
                memories: Vec::new(),
                stats: Stats::default(),
                curator: None,
            }),
        }
    }

    /// A constructed store with known answers: an error in five sessions, its lesson added
    /// after the second and archived after the fourth, served in the third.
    #[test]
    fn the_curve_of_a_store_with_known_answers() {
        let db = "error: DATABASE_URL must be set for the integration tests";
        let sessions = vec![
            day("s1", 1.0, Some(db)),
            day("s2", 2.0, Some(db)),
            day("s3", 3.0, Some(db)),
            day(
                "s4",
                4.0,
                Some("error: could not find `Cargo.toml` in `/home/dev/app`"),
            ),
            day("s5", 5.0, Some(db)),
        ];
        let failed = failures(&sessions[0]);
        assert_eq!(failed.len(), 1, "{failed:?}");
        let evidence = vec![Evidence {
            session_id: "s1".into(),
            seq: failed[0].result_seq.unwrap(),
            quote: String::new(),
        }];
        let dreams = vec![
            dream("d1", 2.5, vec![op(OpKind::Add, "ent_a", evidence)]),
            dream("d2", 4.5, vec![op(OpKind::Archive, "ent_a", Vec::new())]),
        ];
        let servings = vec![Serving {
            session_id: "s3".into(),
            entry_id: "ent_a".into(),
        }];
        let curve = analyze(&CurveInput {
            sessions: &sessions,
            dreams: &dreams,
            servings: &servings,
            since: None,
        });
        let row = |p: &Point| (p.errors, p.repeats, p.with_lesson, p.served);
        let rows: Vec<_> = curve.points.iter().map(row).collect();
        assert_eq!(
            rows,
            vec![
                (1, 0, 0, 0),
                (1, 1, 0, 0),
                (1, 1, 1, 1),
                (1, 0, 0, 0),
                (1, 1, 0, 0)
            ]
        );
        assert_eq!(curve.points[2].dreams_before, vec!["d1"]);
        assert_eq!(curve.points[4].dreams_before, vec!["d2"]);
        assert_eq!(curve.points[1].repeat_rate, 1.0);
        let a = &curve.signatures[0];
        assert_eq!(a.signature, failed[0].signature.key());
        assert_eq!((a.occurrences, a.sessions), (4, 4));
        assert_eq!(a.lesson_dream.as_deref(), Some("d1"));
        assert_eq!((a.repeats_before_lesson, a.repeats_after_lesson), (2, 1));
        assert_eq!((a.sessions_before_lesson, a.sessions_after_lesson), (2, 2));
        assert_eq!(a.failed_when_served, 1);
        assert_eq!(curve.signatures.len(), 2);
        assert_eq!(curve.signatures[1].lesson_dream, None);
        assert_eq!(
            (curve.errors, curve.repeats, curve.with_lesson, curve.served),
            (5, 3, 1, 1)
        );
        assert_eq!(curve.repeat_rate_before_lesson, 1.0);
        assert_eq!(curve.repeat_rate_after_lesson, 0.5);

        // A window: earlier sessions still make later failures repeats.
        let late = analyze(&CurveInput {
            since: Some(at(4.0)),
            ..CurveInput {
                sessions: &sessions,
                dreams: &dreams,
                servings: &servings,
                since: None,
            }
        });
        assert_eq!(late.points.len(), 2);
        assert_eq!(late.repeats, 1);
    }

    #[test]
    fn the_picture_has_a_dot_per_session_a_line_per_dream_and_escapes_its_text() {
        let sessions = vec![
            day("s1", 1.0, Some("error: boom")),
            day("s2", 2.0, Some("error: boom")),
        ];
        let dreams = vec![dream("d1", 1.5, Vec::new())];
        let curve = analyze(&CurveInput {
            sessions: &sessions,
            dreams: &dreams,
            servings: &[],
            since: None,
        });
        let pic = svg(&curve, "<script>alert(1)</script> & co");
        assert!(
            pic.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""),
            "{pic}"
        );
        assert!(pic.trim_end().ends_with("</svg>"));
        assert_eq!(pic.matches("class=\"session\"").count(), 2);
        assert_eq!(pic.matches("class=\"dream\"").count(), 1);
        assert!(!pic.contains("<script>"), "{pic}");
        assert!(pic.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; co"));
    }

    #[test]
    fn what_notes_did_not_fix_is_a_ceiling_with_examples_in_both_formats() {
        let db = "error: DATABASE_URL must be set for the integration tests";
        let sessions = vec![
            day("s1", 1.0, Some(db)),
            day("s2", 2.0, Some(db)),
            day("s3", 3.0, Some(db)),
        ];
        let failed = failures(&sessions[0]);
        let evidence = vec![Evidence {
            session_id: "s1".into(),
            seq: failed[0].result_seq.unwrap(),
            quote: String::new(),
        }];
        let dreams = vec![dream("d1", 1.5, vec![op(OpKind::Add, "ent_a", evidence)])];
        let servings: Vec<Serving> = ["s2", "s3"]
            .iter()
            .map(|s| Serving {
                session_id: s.to_string(),
                entry_id: "ent_a".into(),
            })
            .collect();
        let curve = analyze(&CurveInput {
            sessions: &sessions,
            dreams: &dreams,
            servings: &servings,
            since: None,
        });
        assert!(ceilings(&curve, &sessions, 3).is_empty());
        let c = ceilings(&curve, &sessions, 2);
        assert_eq!(c.len(), 1, "{c:#?}");
        assert_eq!(c[0].sessions, vec!["s2", "s3"]);
        assert_eq!(c[0].examples.len(), 2);
        let e = &c[0].examples[0];
        assert_eq!(e.failed, "Bash: cargo test");
        assert_eq!(e.fixed, "Bash: cargo test --workspace");
        assert!(e.context.starts_with("run the tests"), "{e:?}");
        assert!(e.error.contains("DATABASE_URL"), "{e:?}");
        assert_eq!(c[0].terms, Vec::<String>::new());
        let openai = fine_tuning(&c, TuneFormat::OpenAi);
        assert_eq!(openai.lines().count(), 2);
        for line in openai.lines() {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            let roles: Vec<&str> = v["messages"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| m["role"].as_str().unwrap())
                .collect();
            assert_eq!(roles, ["system", "user", "assistant"]);
            assert_eq!(v.as_object().unwrap().len(), 1, "{v}");
        }
        let anthropic = fine_tuning(&c, TuneFormat::Anthropic);
        for line in anthropic.lines() {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            assert!(v["system"].is_string());
            let roles: Vec<&str> = v["messages"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| m["role"].as_str().unwrap())
                .collect();
            assert_eq!(roles, ["user", "assistant"]);
        }
        assert_eq!(
            quoted_terms("bun test: error: cannot find module '@chkit/core' from '<path>'"),
            vec!["@chkit/core"]
        );
    }

    #[test]
    fn sparklines() {
        assert_eq!(sparkline(&[0.0, 0.5, 1.0, 2.0]), "▁▅██");
    }
}

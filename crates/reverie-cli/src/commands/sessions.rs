//! `reverie ingest` and `reverie sessions …`: transcripts in, sessions out, and reading them.

use std::io::IsTerminal;

use anyhow::Result;
use indicatif::{ProgressBar, ProgressStyle};
use reverie_core::Error;
use reverie_core::session::{Event, EventKind, Outcome, OutcomeStatus, Session, SourceFormat};
use reverie_ingest::{FileStatus, Ingest, Options, Progress};

use crate::cli::{IngestArgs, SessionsCmd};
use crate::context::Ctx;
use crate::exit;
use crate::output::{emit, json, safe, table};

/// A progress bar over the bytes to read, on standard error when it is a terminal.
struct Bar(ProgressBar);

impl Progress for Bar {
    fn begin(&self, files: u64, bytes: u64) {
        self.0.set_length(bytes);
        self.0.set_message(format!("{files} files"));
    }
    fn file(&self, path: &str) {
        let name = std::path::Path::new(path)
            .file_name()
            .map_or(path.into(), |n| n.to_string_lossy().to_string());
        self.0.set_message(name);
    }
    fn advance(&self, bytes: u64) {
        self.0.inc(bytes);
    }
    fn end(&self) {
        self.0.finish_and_clear();
    }
}

fn outcome(status: &str, score: Option<f64>, note: Option<String>) -> Result<Outcome> {
    if let Some(n) = &note {
        reverie_ingest::redact::refuse_secret("note", n)?;
    }
    let o = Outcome {
        status: OutcomeStatus::parse(status)?,
        score,
        note,
    };
    o.validate()?;
    Ok(o)
}

fn mb(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1e6)
}

pub async fn ingest(ctx: &Ctx, a: IngestArgs) -> Result<i32> {
    let st = ctx.store_ref(&a.store.store).await?;
    let format = a.format.as_deref().map(SourceFormat::parse).transpose()?;
    let outcome = a
        .outcome
        .as_deref()
        .map(|s| outcome(s, a.score, a.note.clone()))
        .transpose()?;
    let options = Options {
        replace: a.replace,
        outcome,
        format,
        ..Options::default()
    };
    let ingest = Ingest::new(ctx.store.clone(), st.id.clone(), options);
    let report = if !a.quiet && std::io::stderr().is_terminal() {
        let bar = ProgressBar::new(0).with_style(
            ProgressStyle::with_template(
                "{spinner} {bytes}/{total_bytes} ({bytes_per_sec}, {eta}) {wide_msg}",
            )
            .expect("a valid template"),
        );
        ingest.run(&a.paths, &Bar(bar)).await?
    } else {
        ingest.run(&a.paths, &reverie_ingest::Quiet).await?
    };
    if ctx.json {
        json(&report);
    } else {
        for f in &report.files {
            let status = match f.status {
                FileStatus::Created => "created",
                FileStatus::Appended => "appended",
                FileStatus::Unchanged => "unchanged",
                FileStatus::Replaced => "replaced",
                FileStatus::Skipped => "skipped",
                FileStatus::Failed => "failed",
            };
            let mut line = format!("{status:<9} {}", safe(&f.path));
            if let (Some(id), Some(fmt)) = (&f.session_id, f.format) {
                line.push_str(&format!(
                    "  {id} {fmt}: +{} events from {} lines",
                    f.events_added, f.lines_read
                ));
            }
            if f.redactions.total() > 0 {
                line.push_str(&format!(", {} secrets redacted", f.redactions.total()));
            }
            if let Some(e) = &f.error {
                line.push_str(&format!(": {e}"));
            }
            emit(&line);
            for w in &f.warnings {
                emit(&format!("          warning: {w}"));
            }
            for s in &f.skipped_lines {
                emit(&format!("          skipped line {}: {}", s.line, s.reason));
            }
            if f.skipped_count > f.skipped_lines.len() as u64 {
                emit(&format!(
                    "          … and {} more skipped lines",
                    f.skipped_count - f.skipped_lines.len() as u64
                ));
            }
        }
        let mut total = format!(
            "{}: {} created, {} appended, {} unchanged, {} skipped, {} failed; {} from {}",
            reverie_core::counted(report.files.len() as i64, "file"),
            reverie_core::counted(report.sessions_created as i64, "session"),
            report.sessions_appended,
            report.unchanged,
            report.skipped_files,
            report.failed,
            reverie_core::counted(report.events_added as i64, "event"),
            mb(report.bytes_read),
        );
        if report.redactions.total() > 0 {
            let kinds: Vec<String> = report
                .redactions
                .iter()
                .map(|(k, n)| format!("{} {n}", k.as_str()))
                .collect();
            total.push_str(&format!("; redacted: {}", kinds.join(", ")));
        }
        emit(&total);
    }
    // Nothing there at all is "not found" (as the README's exit codes say); some files that
    // failed among others is a reported problem.
    let missing = |f: &reverie_ingest::report::FileReport| {
        f.error.as_deref() == Some(reverie_ingest::pipeline::NO_SUCH_PATH)
    };
    Ok(
        if !report.files.is_empty() && report.files.iter().all(missing) {
            exit::NOT_FOUND
        } else if report.failed > 0 {
            exit::REPORTED
        } else {
            0
        },
    )
}

pub async fn run(ctx: &Ctx, cmd: SessionsCmd) -> Result<i32> {
    match cmd {
        SessionsCmd::Ls { store, limit } => {
            let st = ctx.store_ref(&store.store).await?;
            let mut sessions = Vec::new();
            let mut page: Option<String> = None;
            loop {
                let p = ctx
                    .store
                    .list_sessions(&st.id, Some(limit.clamp(1, 100)), page.as_deref())
                    .await?;
                sessions.extend(p.data);
                match p.next_page {
                    Some(n) if (sessions.len() as i64) < limit => page = Some(n),
                    _ => break,
                }
            }
            if ctx.json {
                json(&sessions);
            } else if sessions.is_empty() {
                emit(&format!(
                    "no sessions in {} (add some with `reverie ingest -s {} PATH`)",
                    st.name, st.name
                ));
            } else {
                let mut rows = vec![
                    [
                        "ID", "FORMAT", "STARTED", "EVENTS", "ERRORS", "OUTCOME", "SOURCE",
                    ]
                    .map(String::from)
                    .to_vec(),
                ];
                for s in &sessions {
                    rows.push(vec![
                        s.id.clone(),
                        s.source_format.to_string(),
                        s.started_at
                            .map_or("-".into(), |t| t.to_string()[..19].replace('T', " ")),
                        s.event_count.to_string(),
                        s.error_count.to_string(),
                        s.outcome
                            .as_ref()
                            .map_or("-".into(), |o| o.status.as_str().to_string()),
                        safe(s.source_path.as_deref().unwrap_or("-")),
                    ]);
                }
                table(&rows);
            }
            Ok(0)
        }
        SessionsCmd::Show { session, full, raw } => show(ctx, &session, full, raw).await,
        SessionsCmd::Outcome {
            session,
            status,
            score,
            note,
        } => {
            let o = if status == "clear" {
                if score.is_some() || note.is_some() {
                    return Err(
                        Error::invalid("outcome", "clear takes no --score or --note").into(),
                    );
                }
                None
            } else {
                Some(outcome(&status, score, note)?)
            };
            let s = ctx.store.set_session_outcome(&session, o).await?;
            if ctx.json {
                json(&s);
            } else {
                emit(&format!(
                    "{}: {}",
                    s.id,
                    describe_outcome(s.outcome.as_ref())
                ));
            }
            Ok(0)
        }
    }
}

fn describe_outcome(o: Option<&Outcome>) -> String {
    match o {
        None => "no outcome".into(),
        Some(o) => {
            let mut s = o.status.as_str().to_string();
            if let Some(score) = o.score {
                s.push_str(&format!(" ({score})"));
            }
            if let Some(n) = &o.note {
                s.push_str(&format!(" — {n}"));
            }
            s
        }
    }
}

fn header(s: &Session) -> Vec<String> {
    let mut first = vec![s.id.clone(), s.source_format.to_string()];
    if let Some(p) = &s.project {
        first.push(match &s.git_branch {
            Some(b) => format!("{} ({b})", safe(p)),
            None => safe(p),
        });
    }
    if let Some(m) = &s.model {
        first.push(m.clone());
    }
    let when = match (s.started_at, s.ended_at) {
        (Some(a), Some(b)) => format!(
            "{} → {}",
            &a.to_string()[..19].replace('T', " "),
            &b.to_string()[11..19]
        ),
        _ => "no timestamps".into(),
    };
    first.push(when);
    vec![
        first.join(" · "),
        format!(
            "{} events, {} tool error{} · outcome: {}",
            s.event_count,
            s.error_count,
            if s.error_count == 1 { "" } else { "s" },
            describe_outcome(s.outcome.as_ref())
        ),
        format!("source: {}", safe(s.source_path.as_deref().unwrap_or("-"))),
    ]
}

/// An event's text as `show` prints it: whole with `--full`, else at most 12 lines and 400
/// characters, saying how much was left out.
fn cut(s: &str, full: bool) -> String {
    const MAX_CHARS: usize = 400;
    const MAX_LINES: usize = 12;
    let one = s.trim();
    if full {
        return one.to_string();
    }
    let lines: Vec<&str> = one.lines().collect();
    let mut kept = lines[..lines.len().min(MAX_LINES)].join("\n");
    let mut note = Vec::new();
    if lines.len() > MAX_LINES {
        note.push(format!("{} more lines", lines.len() - MAX_LINES));
    }
    if kept.chars().count() > MAX_CHARS {
        let total = kept.chars().count();
        kept = kept.chars().take(MAX_CHARS).collect();
        note.push(format!("{} more characters", total - MAX_CHARS));
    }
    if note.is_empty() {
        kept
    } else {
        format!("{kept} … [{}]", note.join(", "))
    }
}

fn render(e: &Event, full: bool, color: bool) -> String {
    let (red, dim, reset) = if color {
        ("\x1b[31m", "\x1b[2m", "\x1b[0m")
    } else {
        ("", "", "")
    };
    let when = e
        .timestamp
        .map_or("        ".into(), |t| t.to_string()[11..19].to_string());
    let side = match (&e.agent_id, e.sidechain) {
        (Some(a), _) => format!("↳ {a} "),
        (None, true) => "↳ sidechain ".into(),
        _ => String::new(),
    };
    let text = e.text.as_deref().unwrap_or("");
    let body = match e.kind {
        EventKind::User => format!("user       {}", cut(text, full)),
        EventKind::Assistant if e.is_error => {
            format!("{red}assistant  ✗ {}{reset}", cut(text, full))
        }
        EventKind::Assistant => format!("assistant  {}", cut(text, full)),
        EventKind::Thinking => format!("{dim}thinking   {}{reset}", cut(text, full)),
        EventKind::ToolUse => {
            let input = e
                .tool_input
                .as_ref()
                .map(|v| v.to_string())
                .unwrap_or_default();
            format!(
                "tool_use   {} {}",
                e.tool_name.as_deref().unwrap_or("?"),
                cut(&input, full)
            )
        }
        EventKind::ToolResult if e.is_error => {
            format!("{red}✗ error    {}{reset}", cut(text, full))
        }
        EventKind::ToolResult => format!("result     {}", cut(text, full)),
        EventKind::Compaction => format!(
            "── context compacted ({}) ──",
            e.subtype.as_deref().unwrap_or("?")
        ),
        EventKind::Summary => format!("summary    {}", cut(text, full)),
        EventKind::Other => format!(
            "{dim}· {}{}{reset}",
            e.subtype.as_deref().unwrap_or("other"),
            if text.is_empty() {
                String::new()
            } else {
                format!(": {}", cut(text, full))
            }
        ),
    };
    let mut out = String::new();
    for (i, line) in body.lines().enumerate() {
        let lead = if i == 0 {
            format!("{when}  {side}")
        } else {
            " ".repeat(10 + side.chars().count())
        };
        out.push_str(&lead);
        out.push_str(&safe_keep_newlines(line));
        out.push('\n');
    }
    out.trim_end().to_string()
}

/// Control characters made visible, except the ANSI escapes this module adds itself.
fn safe_keep_newlines(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_control() && c != '\x1b' && c != '\t' {
                '�'
            } else {
                c
            }
        })
        .collect()
}

async fn show(ctx: &Ctx, id: &str, full: bool, raw: bool) -> Result<i32> {
    let session = ctx.store.get_session(id).await?;
    if raw {
        let mut from = 1;
        loop {
            let lines = ctx.store.session_lines(id, from, 1000).await?;
            let Some(last) = lines.last().map(|(l, _)| *l) else {
                break;
            };
            for (_, raw) in lines {
                emit(&raw);
            }
            from = last + 1;
        }
        return Ok(0);
    }
    let mut events = Vec::new();
    let mut after = -1;
    loop {
        let page = ctx.store.session_events(id, after, 1000).await?;
        let Some(last) = page.last().map(|e| e.seq) else {
            break;
        };
        events.extend(page);
        after = last;
    }
    if ctx.json {
        json(&serde_json::json!({"session": session, "events": events}));
        return Ok(0);
    }
    for line in header(&session) {
        emit(&line);
    }
    emit("");
    let color = std::io::stdout().is_terminal();
    for e in &events {
        emit(&render(e, full, color));
    }
    Ok(0)
}

//! `reverie bench dream --from DIR`: the peak memory of one dream over many large real
//! sessions. Sessions are built from the real transcripts of DIR (their lines in turn, each
//! session with an id of its own, until it holds `--session-mb`), ingested by `reverie
//! ingest`, then dreamed in a child process of its own so that its peak resident memory is
//! the dream's alone.

use std::io::{BufRead as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context as _, Result, bail};
use reverie_core::dream::{DETERMINISTIC_MODEL, DreamInput, ModelParam, NewDream, OutputBehavior};

use crate::cli::BenchDreamArgs;
use crate::output::{emit, json, table};

const STORE: &str = "bench-sessions";

/// Builds, ingests and dreams; prints the child's report.
pub async fn run(a: &BenchDreamArgs, from: &Path, json_out: bool) -> Result<i32> {
    let dir = std::env::temp_dir().join(format!("reverie-bench-sessions-{}", std::process::id()));
    let files = dir.join("sessions");
    std::fs::create_dir_all(&files)?;
    let result = measure(a, from, &dir, &files, json_out);
    let _ = std::fs::remove_dir_all(&dir);
    let report = result?;
    if json_out {
        json(&report);
        return Ok(0);
    }
    let f = |k: &str| report[k].as_f64().unwrap_or(0.0);
    table(&[
        vec![
            "sessions".into(),
            "transcripts".into(),
            "events".into(),
            "dream".into(),
            "peak RSS".into(),
            "RSS / transcripts".into(),
        ],
        vec![
            report["sessions"].to_string(),
            format!("{:.0} MB", f("transcript_bytes") / 1e6),
            report["events"].to_string(),
            format!("{:.2} s", f("total_s")),
            format!("{:.0} MiB", f("peak_rss_mib")),
            format!(
                "{:.2}",
                f("peak_rss_mib") * 1048576.0 / f("transcript_bytes").max(1.0)
            ),
        ],
    ]);
    emit("");
    emit("(one dream in a process of its own, SQLite, deterministic curator; peak RSS is VmHWM)");
    Ok(0)
}

fn measure(
    a: &BenchDreamArgs,
    from: &Path,
    dir: &Path,
    files: &Path,
    json_out: bool,
) -> Result<serde_json::Value> {
    let bytes = build(from, files, a.sessions, a.session_mb * 1_000_000)?;
    let url = format!("sqlite://{}", dir.join("bench.db").display());
    let exe = std::env::current_exe()?;
    let run = |args: &[&str]| -> Result<Vec<u8>> {
        let out = Command::new(&exe)
            .args(args)
            .env("REVERIE_DATABASE_URL", &url)
            .output()?;
        if !out.status.success() {
            bail!(
                "`reverie {}` failed: {}",
                args.join(" "),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(out.stdout)
    };
    if !json_out {
        eprintln!(
            "{} sessions of {} MB built from {}; ingesting…",
            a.sessions,
            a.session_mb,
            from.display()
        );
    }
    run(&["store", "create", STORE])?;
    run(&["ingest", "-s", STORE, &files.display().to_string()])?;
    if !json_out {
        eprintln!("dreaming…");
    }
    let out = run(&["bench", "dream", "--child-db", &url])?;
    let mut report: serde_json::Value =
        serde_json::from_slice(&out).context("the child's report")?;
    report["transcript_bytes"] = bytes.into();
    Ok(report)
}

/// Writes `n` sessions of about `size` bytes each from the lines of DIR's transcripts; returns
/// the bytes written.
fn build(from: &Path, out: &Path, n: usize, size: usize) -> Result<u64> {
    let mut sources: Vec<PathBuf> = std::fs::read_dir(from)
        .with_context(|| format!("cannot read {}", from.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
        .collect();
    sources.sort();
    let mut lines = Vec::new();
    for p in &sources {
        let f = std::io::BufReader::new(std::fs::File::open(p)?);
        for line in f.split(b'\n') {
            if let Ok(v) = serde_json::from_slice::<serde_json::Value>(&line?)
                && v.is_object()
            {
                lines.push(v);
            }
        }
    }
    if lines.is_empty() {
        bail!("no transcript lines in {} (*.jsonl)", from.display());
    }
    let mut written = 0u64;
    let mut k = 0usize;
    for i in 0..n {
        let id = format!("00000000-0000-4000-8000-{:012}", i + 1);
        let mut w =
            std::io::BufWriter::new(std::fs::File::create(out.join(format!("{i:03}.jsonl")))?);
        let mut held = 0;
        while held < size {
            let mut v = lines[k % lines.len()].clone();
            k += 1;
            if v.get("sessionId").is_some() {
                v["sessionId"] = id.clone().into();
            }
            let s = serde_json::to_string(&v)?;
            writeln!(w, "{s}")?;
            held += s.len() + 1;
        }
        w.flush()?;
        written += held as u64;
    }
    Ok(written)
}

/// The child: one dream over the store's sessions; one JSON line with its peak memory.
pub async fn child(url: &str) -> Result<i32> {
    let s = reverie_store::open(url).await?;
    let store = s
        .stores_named(STORE)
        .await?
        .into_iter()
        .next()
        .context("the bench's store")?;
    let mut ids = Vec::new();
    let mut events = 0;
    let mut page = None;
    loop {
        let p = s
            .list_sessions(&store.id, Some(100), page.as_deref())
            .await?;
        for x in &p.data {
            ids.push(x.id.clone());
            events += x.event_count;
        }
        match p.next_page {
            Some(n) if ids.len() < 100 => page = Some(n),
            _ => break,
        }
    }
    let runner = reverie_dream::Runner::new(s.clone(), Arc::new(reverie_curate::Deterministic));
    let started = Instant::now();
    let d = runner
        .create(NewDream {
            inputs: vec![
                DreamInput::MemoryStore {
                    memory_store_id: store.id.clone(),
                },
                DreamInput::Sessions {
                    session_ids: ids.clone(),
                },
            ],
            model: ModelParam::Id(DETERMINISTIC_MODEL.into()),
            instructions: None,
            output_behavior: Some(OutputBehavior::UpdateExisting {
                memory_store_id: store.id.clone(),
            }),
            review: Some(false),
        })
        .await?;
    let (d, _) = runner.run_timed(&d.id).await?;
    if d.status != reverie_core::dream::DreamStatus::Completed {
        bail!("the dream did not complete: {:?}", d.error);
    }
    let line = serde_json::json!({
        "sessions": ids.len(),
        "events": events,
        "total_s": started.elapsed().as_secs_f64(),
        "peak_rss_mib": super::bench::peak_rss().map(|b| b as f64 / 1048576.0),
    });
    println!("{line}");
    Ok(0)
}

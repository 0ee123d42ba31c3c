//! `reverie bench ingest`: does ingest run at the speed of its parser? A folder of real
//! transcripts (the JSON-lines files under `--data`, copied under new names until it holds
//! `--mb`) is, in turn and `--runs` times:
//!
//! - **read**: every file read as ingest reads it before the store (read, validate, redact,
//!   normalize, batch: `reverie_ingest::read::read_file`), one file after another on one
//!   thread, the batches dropped — the parser's rate, the baseline;
//! - **ingested**: `reverie ingest`'s pipeline into a fresh store (a scratch SQLite file, or a
//!   new store in `--database`, deleted after the run).
//!
//! Alternating the two puts the machine's noise on both alike. The report gives each one's
//! median time and rate, ingest's share of the parser's rate, and (SQLite) the database's
//! size on disk beside the transcripts' (its file and write-ahead log, up to 4 MB of pages
//! that may also be in the file: small against 100 MB, most of it against 1 MB).

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Result, bail};
use reverie_ingest::read::{Limits, read_file};
use reverie_ingest::redact::redactor;
use reverie_ingest::{Ingest, Options, Quiet};
use reverie_store::NewStore;

use crate::cli::BenchIngestArgs;
use crate::output::{emit, json, table};

pub async fn run(a: BenchIngestArgs, database: Option<String>, json_out: bool) -> Result<i32> {
    let dir = std::env::temp_dir().join(format!("reverie-bench-ingest-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let result = measure(&a, database.as_deref(), &dir, json_out).await;
    let _ = std::fs::remove_dir_all(&dir);
    let m = result?;
    let mb = m.bytes as f64 / 1e6;
    let (read_s, ingest_s) = (median(&m.read_s), median(&m.ingest_s));
    let share = read_s / ingest_s;
    let out = serde_json::json!({
        "database": m.backend,
        "files": m.files,
        "bytes": m.bytes,
        "runs": a.runs,
        "sessions": m.sessions,
        "events": m.events,
        "read_s": m.read_s,
        "ingest_s": m.ingest_s,
        "read_mb_per_s": mb / read_s,
        "ingest_mb_per_s": mb / ingest_s,
        "ingest_share_of_read_rate": share,
        "database_bytes": m.db_bytes,
        "database_to_transcripts": m.db_bytes.map(|b| b as f64 / m.bytes as f64),
    });
    if json_out {
        json(&out);
        return Ok(0);
    }
    let row = |label: &str, s: f64, all: &[f64]| {
        vec![
            label.to_string(),
            format!("{s:.3}"),
            format!("{:.1}", mb / s),
            all.iter()
                .map(|x| format!("{x:.3}"))
                .collect::<Vec<_>>()
                .join(", "),
        ]
    };
    table(&[
        vec![
            "".into(),
            "median s".into(),
            "MB/s".into(),
            "every run (s)".into(),
        ],
        row("read (parse, redact, normalize)", read_s, &m.read_s),
        row("ingested into the store", ingest_s, &m.ingest_s),
    ]);
    emit("");
    emit(&format!(
        "ingest at {:.0}% of the read rate; {} files, {:.1} MB, {} sessions, {} events ({})",
        share * 100.0,
        m.files,
        mb,
        m.sessions,
        m.events,
        m.backend
    ));
    if let Some(b) = m.db_bytes {
        emit(&format!(
            "database on disk, with its write-ahead log: {:.1} MB, {:.2}× the transcripts",
            b as f64 / 1e6,
            b as f64 / m.bytes as f64
        ));
    }
    Ok(0)
}

struct Measured {
    backend: &'static str,
    files: usize,
    bytes: u64,
    sessions: u64,
    events: u64,
    read_s: Vec<f64>,
    ingest_s: Vec<f64>,
    db_bytes: Option<u64>,
}

fn median(xs: &[f64]) -> f64 {
    let mut v = xs.to_vec();
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// The JSON-lines files under `dir`, as `reverie ingest` finds them in a folder.
fn transcripts(dir: &Path) -> Result<Vec<PathBuf>> {
    let (targets, failures) = reverie_ingest::pipeline::expand(&[dir.display().to_string()]);
    if let Some(f) = failures.first() {
        bail!(
            "{}: {}",
            f.path,
            f.error.as_deref().unwrap_or("cannot read")
        );
    }
    Ok(targets
        .into_iter()
        .map(|t| t.path)
        .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
        .collect())
}

/// Copies of `files` under new names in `folder` until it holds `target` bytes.
fn fill(files: &[PathBuf], folder: &Path, target: u64) -> Result<(usize, u64)> {
    let (mut n, mut bytes, mut copy) = (0, 0u64, 0);
    while bytes < target {
        copy += 1;
        let sub = folder.join(format!("copy-{copy:05}"));
        std::fs::create_dir_all(&sub)?;
        for (i, f) in files.iter().enumerate() {
            let name = format!(
                "{i:04}-{}",
                f.file_name().unwrap_or_default().to_string_lossy()
            );
            let to = sub.join(name);
            bytes += std::fs::copy(f, &to)?;
            // On disk before timing starts: the kernel writing 100 MB of copies back during
            // the runs would fall on the database's fsyncs.
            std::fs::File::open(&to)?.sync_all()?;
            n += 1;
        }
    }
    Ok((n, bytes))
}

async fn measure(
    a: &BenchIngestArgs,
    database: Option<&str>,
    dir: &Path,
    json_out: bool,
) -> Result<Measured> {
    let files = transcripts(&a.data)?;
    if files.is_empty() {
        bail!("no .jsonl transcripts under {}", a.data.display());
    }
    let folder = dir.join("transcripts");
    let (n, bytes) = fill(&files, &folder, a.mb * 1_000_000)?;
    let copies = transcripts(&folder)?;
    if !json_out {
        eprintln!(
            "{n} files, {:.1} MB; {} runs of each, alternating…",
            bytes as f64 / 1e6,
            a.runs
        );
    }
    let mut m = Measured {
        backend: "sqlite",
        files: n,
        bytes,
        sessions: 0,
        events: 0,
        read_s: Vec::new(),
        ingest_s: Vec::new(),
        db_bytes: None,
    };
    let arg = folder.display().to_string();
    for run in 0..a.runs {
        let copies = copies.clone();
        let read = tokio::task::spawn_blocking(move || {
            let limits = Limits::default();
            let start = Instant::now();
            let mut events = 0usize;
            for p in &copies {
                let label = p.display().to_string();
                read_file(p, &label, None, None, &limits, redactor(), &mut |msg| {
                    if let reverie_ingest::read::Msg::Chunk(c) = msg {
                        events += c.events.len();
                    }
                    true
                });
            }
            (start.elapsed().as_secs_f64(), events)
        })
        .await?;
        m.read_s.push(read.0);

        let url = match database {
            Some(url) => url.to_string(),
            None => dir.join(format!("run-{run}.db")).display().to_string(),
        };
        let s = reverie_store::open(&url).await?;
        m.backend = s.backend();
        let store = s
            .create_store(NewStore {
                name: format!("bench-ingest-{}-{run}", std::process::id()),
                ..NewStore::default()
            })
            .await?
            .id;
        let ingest = Ingest::new(s.clone(), store.clone(), Options::default());
        let start = Instant::now();
        let report = ingest.run(std::slice::from_ref(&arg), &Quiet).await?;
        m.ingest_s.push(start.elapsed().as_secs_f64());
        if report.events_added as usize != read.1 {
            bail!(
                "ingest stored {} events where the read found {}",
                report.events_added,
                read.1
            );
        }
        m.sessions = report.sessions_created;
        m.events = report.events_added;
        if database.is_some() {
            // A given database keeps nothing of the benchmark.
            s.delete_store(&store).await?;
        }
        drop(ingest);
        drop(s);
        if database.is_none() {
            m.db_bytes = Some(sqlite_bytes(&url));
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{url}{suffix}"));
            }
        }
    }
    Ok(m)
}

/// The SQLite file's size with its write-ahead log (folded into it when the last
/// connection closes, or still beside it).
fn sqlite_bytes(path: &str) -> u64 {
    let size = |p: String| std::fs::metadata(p).map_or(0, |m| m.len());
    size(path.to_string()) + size(format!("{path}-wal"))
}

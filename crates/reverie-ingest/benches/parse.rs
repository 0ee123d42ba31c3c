//! Parse + normalize + redact throughput on Claude Code JSONL, beside serde_json's bare parse
//! of the same bytes, in the same run.
//!
//! The input is every Claude Code transcript of `../shared/data/transcripts`, repeated into one
//! file of about 100 MB. `reverie_read_file` runs the real read path of `reverie ingest` (line
//! reader, redaction of every raw line, JSON parse, Claude Code normalization, batching) with a
//! writer that drops the batches; `serde_json_value` reads the same file line by line and parses
//! each line into a `serde_json::Value`, nothing else. The ratio of the two throughputs is the
//! figure the issue asks for (target: at least 50% of the bare parse).
//!
//! Both validate every byte of every line as JSON. reverie builds values only for the fields
//! its normalizer reads ([`reverie_ingest::claude::Fields`]) and keeps the rest as the raw
//! line; the baseline builds a value for everything.

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use reverie_ingest::read::{Limits, Msg, read_file};

const TARGET_BYTES: usize = 100 << 20;

fn corpus() -> (tempfile::TempDir, PathBuf, u64) {
    let data = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/transcripts");
    let mut one = Vec::new();
    let mut names: Vec<PathBuf> = std::fs::read_dir(&data)
        .expect("the shared transcripts folder beside the repository")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "jsonl"))
        .collect();
    names.sort();
    for p in names {
        let mut bytes = std::fs::read(p).unwrap();
        if !bytes.ends_with(b"\n") {
            bytes.push(b'\n');
        }
        one.extend_from_slice(&bytes);
    }
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let path = dir.path().join("corpus.jsonl");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    let mut written = 0;
    while written < TARGET_BYTES {
        f.write_all(&one).unwrap();
        written += one.len();
    }
    f.flush().unwrap();
    (dir, path, written as u64)
}

fn bench(c: &mut Criterion) {
    let (_dir, path, bytes) = corpus();
    eprintln!(
        "corpus: {:.1} MB of Claude Code JSONL at {}",
        bytes as f64 / 1e6,
        path.display()
    );
    let mut g = c.benchmark_group("parse");
    g.throughput(Throughput::Bytes(bytes));
    g.sample_size(10);
    g.bench_function("serde_json_value", |b| {
        b.iter(|| {
            let reader = BufReader::with_capacity(1 << 20, std::fs::File::open(&path).unwrap());
            let mut n = 0usize;
            for line in reader.split(b'\n') {
                let line = line.unwrap();
                if !line.is_empty() {
                    let v: serde_json::Value = serde_json::from_slice(&line).unwrap();
                    n += v.is_object() as usize;
                }
            }
            n
        })
    });
    g.bench_function("reverie_read_file", |b| {
        let limits = Limits::default();
        b.iter(|| {
            let mut events = 0usize;
            let mut send = |m: Msg| {
                if let Msg::Chunk(c) = m {
                    events += c.events.len();
                }
                true
            };
            read_file(
                &path,
                "corpus",
                None,
                None,
                &limits,
                reverie_ingest::redact::redactor(),
                &mut send,
            );
            events
        })
    });
    // The pieces, to see where the time goes: redaction of every line alone, and parse +
    // normalization without redaction.
    g.bench_function("redact_only", |b| {
        let redactor = reverie_ingest::redact::redactor();
        b.iter(|| {
            let reader = BufReader::with_capacity(1 << 20, std::fs::File::open(&path).unwrap());
            let mut counts = reverie_ingest::redact::RedactionCounts::default();
            let mut n = 0usize;
            for line in reader.lines() {
                n += redactor.redact(&line.unwrap(), &mut counts).len();
            }
            n
        })
    });
    g.bench_function("parse_normalize_only", |b| {
        b.iter(|| {
            let reader = BufReader::with_capacity(1 << 20, std::fs::File::open(&path).unwrap());
            let mut meta = reverie_core::session::SessionMeta::default();
            let mut n = 0usize;
            for (i, line) in reader.lines().enumerate() {
                let line = line.unwrap();
                if line.is_empty() {
                    continue;
                }
                let parsed = reverie_ingest::claude::Line::read(&line).unwrap();
                n += parsed.events(i as i64 + 1, &mut meta).len();
            }
            n
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

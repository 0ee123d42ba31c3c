//! `reverie bench dream`: how long a dream takes, and how much memory, over a generated store
//! and generated sessions of realistic size, at several scales.
//!
//! Each scale runs in a child process of its own (so that its peak memory is its own) against
//! a fresh SQLite database in a scratch folder. The store holds `memories × scale` memories of
//! about 1 KB — eight notes each, drawn from a vocabulary of what a coding agent keeps, with
//! duplicates, paraphrases and changed values among them — and the dream reads 100 sessions
//! of `turns × scale` turns each (user requests, assistant text, tool calls with outputs, errors
//! and the retries that fixed them, requests to remember, corrections, definitions). The
//! budget is 90% of the store's size, so that the budget stage has work. Generation uses a
//! fixed seed: every run measures the same input.

use std::process::Command;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context as _, Result, bail};
use rand::{Rng, RngExt, SeedableRng};
use reverie_core::dream::{
    DETERMINISTIC_MODEL, DreamInput, DreamStatus, ModelParam, NewDream, OutputBehavior,
};
use reverie_core::policy::Policy;
use reverie_core::session::{Event, EventKind, SessionMeta, SourceFormat};
use reverie_core::{Actor, Timestamp};
use reverie_store::{NewSession, NewStore, SessionBatch, Store};

use crate::cli::BenchDreamArgs;
use crate::output::{emit, json, table};

pub(super) const SUBJECTS: [&str; 24] = [
    "the API server",
    "the admin UI",
    "the test database",
    "the staging database",
    "the job queue",
    "the cache",
    "the billing webhook",
    "the export endpoint",
    "the auth service",
    "the CI pipeline",
    "the deploy script",
    "the metrics exporter",
    "the search index",
    "the rate limiter",
    "the mailer",
    "the feature flags",
    "the migrations",
    "the fixtures",
    "the load balancer",
    "the log shipper",
    "the object store",
    "the scheduler",
    "the websocket gateway",
    "the CLI",
];
const FACTS: [&str; 8] = [
    "listens on port {n}",
    "is configured in `config/{w}.toml`",
    "is built with `cargo build -p {w} --locked`",
    "needs `{W}_URL` set before `cargo test --test {w}`",
    "is deployed by `./scripts/deploy-{w}.sh` from `main`",
    "logs to `/var/log/{w}/{w}.log` with `RUST_LOG=info`",
    "times out after {n}ms under load",
    "is owned by the {w} team; ask in #{w} before changing it",
];
pub(super) const WORDS: [&str; 16] = [
    "tallyho", "ledger", "orbit", "quill", "harbor", "ember", "sprout", "atlas", "cobalt", "delta",
    "falcon", "garnet", "lumen", "nimbus", "onyx", "pylon",
];

fn fill(template: &str, rng: &mut impl Rng) -> String {
    let w = WORDS[rng.random_range(0..WORDS.len())];
    template
        .replace("{n}", &rng.random_range(1000..9999).to_string())
        .replace("{W}", &w.to_uppercase())
        .replace("{w}", w)
}

/// A note: a subject and a fact, sometimes a lesson or a preference.
fn note(rng: &mut impl Rng) -> String {
    let subject = SUBJECTS[rng.random_range(0..SUBJECTS.len())];
    match rng.random_range(0..10) {
        0 => format!(
            "When `cargo test` fails with `error[E0433]` in {subject}, run `cargo add {}` first.",
            WORDS[rng.random_range(0..WORDS.len())]
        ),
        1 => format!("Always run `cargo fmt --all` before committing changes to {subject}."),
        _ => {
            let fact = fill(FACTS[rng.random_range(0..FACTS.len())], rng);
            let mut s = format!("{subject} {fact}.");
            s[..1].make_ascii_uppercase();
            s
        }
    }
}

/// Generates the store: `n` memories of eight notes, a tenth of them repeating or rephrasing a
/// note of another memory.
/// A glossary of the words the generated notes and questions use, as a memory's content.
pub(super) fn glossary() -> String {
    let mut glossary = String::from("# Glossary\n\n");
    for (i, w) in WORDS.iter().enumerate() {
        glossary.push_str(&format!(
            "- **{w}**: the {} service's code name; its crate is `{w}`.\n",
            SUBJECTS[i % SUBJECTS.len()].trim_start_matches("the ")
        ));
    }
    glossary
}

pub(super) async fn generate_store(
    s: &Arc<dyn Store>,
    n: usize,
    rng: &mut impl Rng,
) -> Result<(String, u64)> {
    let store = s
        .create_store(NewStore {
            name: "bench".into(),
            max_memories: Some(n as i64 + 1000),
            ..NewStore::default()
        })
        .await?
        .id;
    let actor = Actor::User {
        user_id: "user_bench".into(),
    };
    let mut seen: Vec<String> = Vec::new();
    let mut total = 0u64;
    for i in 0..n {
        let mut content = format!("# {} notes {i}\n\n", WORDS[i % WORDS.len()]);
        for _ in 0..8 {
            let note = match (rng.random_range(0..20), seen.is_empty()) {
                (0, false) => seen[rng.random_range(0..seen.len())].clone(),
                (1, false) => seen[rng.random_range(0..seen.len())].to_lowercase(),
                _ => note(rng),
            };
            content.push_str("- ");
            content.push_str(&note);
            content.push('\n');
            if seen.len() < 5000 {
                seen.push(note);
            }
        }
        total += content.len() as u64;
        s.create_memory(
            &store,
            &format!("/projects/p{:02}/notes-{i:05}.md", i % 40),
            &content,
            &actor,
        )
        .await?;
    }
    Ok((store, total))
}

/// One generated session of `turns` turns.
pub(super) async fn generate_session(
    s: &Arc<dyn Store>,
    store: &str,
    k: usize,
    turns: usize,
    rng: &mut impl Rng,
) -> Result<(String, usize)> {
    let session = s
        .create_session(NewSession {
            store_id: store.into(),
            source_format: SourceFormat::ClaudeCode,
            source_path: Some(format!("/bench/session-{k:03}.jsonl")),
            outcome: None,
        })
        .await?;
    let start = Timestamp::parse("2026-10-01T08:00:00Z")
        .expect("a date")
        .micros()
        + k as i64 * 7_200_000_000;
    let mut events: Vec<Event> = Vec::new();
    let push = |events: &mut Vec<Event>, mut e: Event| {
        e.seq = events.len() as i64;
        e.line = Some(events.len() as i64 + 1);
        e.timestamp = Some(Timestamp(start + events.len() as i64 * 15_000_000));
        events.push(e);
    };
    let mut bytes = 0;
    for t in 0..turns {
        let subject = SUBJECTS[rng.random_range(0..SUBJECTS.len())];
        let user = match rng.random_range(0..12) {
            0 => format!(
                "remember that {} {}",
                subject,
                fill(FACTS[rng.random_range(0..FACTS.len())], rng)
            ),
            1 => format!(
                "no, {subject} is configured in `config/{}.toml`, not `.env`",
                WORDS[rng.random_range(0..WORDS.len())]
            ),
            2 => format!(
                "by '{}' we mean the {} fixtures in `tests/{}/`",
                WORDS[rng.random_range(0..WORDS.len())],
                subject.trim_start_matches("the "),
                WORDS[rng.random_range(0..WORDS.len())]
            ),
            3 => "thanks, looks good".to_string(),
            _ => format!(
                "can you look at {subject} and fix the failing test in `src/{}.rs`?",
                WORDS[rng.random_range(0..WORDS.len())]
            ),
        };
        push(&mut events, Event::new(EventKind::User).with_text(user));
        push(
            &mut events,
            Event::new(EventKind::Assistant)
                .with_text(format!("I'll check {subject} first and run the tests.")),
        );
        let fails = rng.random_range(0..4) == 0;
        let command = format!(
            "cargo test --test {}",
            WORDS[rng.random_range(0..WORDS.len())]
        );
        let mut call = Event::new(EventKind::ToolUse);
        call.tool_name = Some("Bash".into());
        call.tool_use_id = Some(format!("toolu_{k}_{t}_a"));
        call.tool_input = Some(serde_json::json!({"command": command}));
        push(&mut events, call);
        let output = if fails {
            format!(
                "error[E0433]: failed to resolve: use of undeclared crate or module `serde_json`\n --> src/lib.rs:{}:5\n{}",
                rng.random_range(1..300),
                "   |\n".repeat(rng.random_range(2..20))
            )
        } else {
            format!(
                "running {} tests\n{}test result: ok.",
                rng.random_range(1..60),
                "test tests::case ... ok\n".repeat(rng.random_range(5..60))
            )
        };
        bytes += output.len();
        let mut result = Event::new(EventKind::ToolResult).with_text(output);
        result.tool_use_id = Some(format!("toolu_{k}_{t}_a"));
        result.is_error = fails;
        push(&mut events, result);
        if fails {
            for (id, cmd, out) in [
                (
                    "b",
                    "cargo add serde_json".to_string(),
                    "Adding serde_json v1.0.140 to dependencies".to_string(),
                ),
                (
                    "c",
                    command.clone(),
                    "running 3 tests\ntest result: ok.".to_string(),
                ),
            ] {
                let mut call = Event::new(EventKind::ToolUse);
                call.tool_name = Some("Bash".into());
                call.tool_use_id = Some(format!("toolu_{k}_{t}_{id}"));
                call.tool_input = Some(serde_json::json!({"command": cmd}));
                push(&mut events, call);
                let mut result = Event::new(EventKind::ToolResult).with_text(out);
                result.tool_use_id = Some(format!("toolu_{k}_{t}_{id}"));
                push(&mut events, result);
            }
        }
    }
    let n = events.len();
    for chunk in events.chunks(5000) {
        let first = chunk[0].seq;
        let last = chunk[chunk.len() - 1].seq;
        s.append_to_session(
            &session.id,
            &SessionBatch {
                expect_consumed: first,
                expect_seq: first,
                lines: chunk
                    .iter()
                    .map(|e| (e.line.unwrap_or(0), "{}".to_string()))
                    .collect::<Vec<_>>()
                    .into(),
                events: chunk.to_vec(),
                consumed_bytes: last + 1,
                consumed_hash: Some("bench".into()),
                next_line: last + 2,
                meta: SessionMeta {
                    project: Some("/home/dev/tallyho".into()),
                    started_at: Some(Timestamp(start)),
                    ended_at: Some(Timestamp(start + n as i64 * 15_000_000)),
                    ..SessionMeta::default()
                },
            },
        )
        .await?;
    }
    let _ = bytes;
    Ok((session.id, n))
}

/// The peak resident memory of this process, in bytes (Linux).
pub(super) fn peak_rss() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// One scale, in this process: generate, dream, report one JSON line.
async fn one(a: &BenchDreamArgs, scale: usize) -> Result<serde_json::Value> {
    let dir = std::env::temp_dir().join(format!(
        "reverie-bench-dream-{}-{scale}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir)?;
    let url = dir.join("bench.db").display().to_string();
    let s = reverie_store::open(&url).await?;
    let mut rng = rand::rngs::StdRng::seed_from_u64(2026);
    let memories = a.memories * scale;
    let (store, bytes) = generate_store(&s, memories, &mut rng).await?;
    let p = Policy {
        budget: reverie_core::policy::Budget {
            max_total_bytes: bytes * 9 / 10,
            index_max_lines: 200,
            ..Default::default()
        },
        ..Policy::default()
    };
    s.set_policy(&store, &p).await?;
    let mut sessions = Vec::new();
    let mut events = 0;
    for k in 0..a.sessions {
        let (id, n) = generate_session(&s, &store, k, a.turns * scale, &mut rng).await?;
        sessions.push(id);
        events += n;
    }
    let runner = reverie_dream::Runner::new(s.clone(), Arc::new(reverie_curate::Deterministic));
    let new = NewDream {
        inputs: vec![
            DreamInput::MemoryStore {
                memory_store_id: store.clone(),
            },
            DreamInput::Sessions {
                session_ids: sessions,
            },
        ],
        model: ModelParam::Id(DETERMINISTIC_MODEL.into()),
        instructions: None,
        output_behavior: Some(OutputBehavior::UpdateExisting {
            memory_store_id: store.clone(),
        }),
        review: Some(false),
    };
    let rss_before = peak_rss();
    let started = Instant::now();
    let d = runner.create(new).await?;
    let (d, t) = runner.run_timed(&d.id).await?;
    let total = started.elapsed();
    if d.status != DreamStatus::Completed {
        bail!("the dream did not complete: {:?}", d.error);
    }
    let cs = s.dream_changeset(&d.id).await?.context("a changeset")?;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(serde_json::json!({
        "scale": scale,
        "memories": memories,
        "store_bytes": bytes,
        "sessions": a.sessions,
        "events": events,
        "entries_before": cs.stats.entries_before,
        "candidates": cs.stats.candidates,
        "ops": cs.ops.len(),
        "memories_changed": cs.memories.len(),
        "orient_s": t.orient.as_secs_f64(),
        "pipeline_s": t.pipeline.as_secs_f64(),
        "commit_s": t.commit.as_secs_f64(),
        "total_s": total.as_secs_f64(),
        "attempts": t.attempts,
        "peak_rss_mib_before_dream": rss_before.map(|b| b as f64 / 1048576.0),
        "peak_rss_mib": peak_rss().map(|b| b as f64 / 1048576.0),
    }))
}

pub async fn dream(a: BenchDreamArgs, json_out: bool) -> Result<i32> {
    if let Some(url) = &a.child_db {
        return super::bench_sessions::child(url).await;
    }
    if let Some(from) = &a.from {
        return super::bench_sessions::run(&a, from, json_out).await;
    }
    if let Some(scale) = a.child {
        let line = one(&a, scale).await?;
        println!("{line}");
        return Ok(0);
    }
    let scales: Vec<usize> = a
        .scales
        .split(',')
        .map(|x| x.trim().parse::<usize>())
        .collect::<std::result::Result<_, _>>()
        .context("--scales is a comma-separated list of numbers")?;
    let exe = std::env::current_exe()?;
    let mut rows = Vec::new();
    for scale in scales {
        if !json_out {
            eprintln!("scale {scale}: generating and dreaming…");
        }
        let out = Command::new(&exe)
            .args([
                "bench",
                "dream",
                "--memories",
                &a.memories.to_string(),
                "--sessions",
                &a.sessions.to_string(),
                "--turns",
                &a.turns.to_string(),
                "--child",
                &scale.to_string(),
            ])
            .env_remove("REVERIE_DATABASE_URL")
            .output()?;
        if !out.status.success() {
            bail!(
                "scale {scale} failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let line: serde_json::Value =
            serde_json::from_slice(&out.stdout).context("the child's report")?;
        rows.push(line);
    }
    if json_out {
        json(&rows);
        return Ok(0);
    }
    let mut t = vec![vec![
        "scale".into(),
        "memories".into(),
        "entries".into(),
        "events".into(),
        "candidates".into(),
        "ops".into(),
        "orient".into(),
        "pipeline".into(),
        "commit".into(),
        "total".into(),
        "peak RSS".into(),
    ]];
    for r in &rows {
        let f = |k: &str| r[k].as_f64().unwrap_or(0.0);
        t.push(vec![
            format!("{}×", r["scale"]),
            r["memories"].to_string(),
            r["entries_before"].to_string(),
            r["events"].to_string(),
            r["candidates"].to_string(),
            r["ops"].to_string(),
            format!("{:.2} s", f("orient_s")),
            format!("{:.2} s", f("pipeline_s")),
            format!("{:.2} s", f("commit_s")),
            format!("{:.2} s", f("total_s")),
            format!("{:.0} MiB", f("peak_rss_mib")),
        ]);
    }
    table(&t);
    emit("");
    emit(
        "(one dream each, update_existing, SQLite synchronous=FULL, deterministic curator; budget 90% of the store)",
    );
    Ok(0)
}

/// `reverie bench drift`: a store with `revisions` revisions — one in `dream_every` a dream
/// over a generated session (adds, merges, supersessions, and archives under a budget of
/// 4 KB), the others memory writes that replace a memory's notes by hand — then `reverie
/// drift` over the whole history, timed against the baseline of loading its inputs (listing
/// the dreams with their changesets, the entries and the policy) in the same run.
pub async fn drift(a: crate::cli::BenchDriftArgs, json_out: bool) -> Result<i32> {
    use reverie_curate::drift::{DEFAULT_MIN_HELPFUL, DriftInput, analyze};
    let dir = std::env::temp_dir().join(format!("reverie-bench-drift-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let s = reverie_store::open(&dir.join("bench.db").display().to_string()).await?;
    let mut rng = rand::rngs::StdRng::seed_from_u64(2026);
    let st = s
        .create_store(NewStore {
            name: "bench-drift".into(),
            ..NewStore::default()
        })
        .await?;
    let mut policy = Policy::default();
    policy.budget.max_total_bytes = 4 * 1024;
    s.set_policy(&st.id, &policy).await?;
    let runner = reverie_dream::Runner::new(s.clone(), Arc::new(reverie_curate::Deterministic));
    let actor = Actor::User {
        user_id: "user_bench".into(),
    };
    let (mut revision, mut dreams, mut failed, mut step) = (0i64, 0usize, 0usize, 0usize);
    let started = Instant::now();
    while revision < a.revisions as i64 {
        if step % a.dream_every.max(1) == a.dream_every.max(1) - 1 {
            let (session, _) = generate_session(&s, &st.id, dreams, a.turns, &mut rng).await?;
            let d = runner
                .create(NewDream {
                    inputs: vec![
                        DreamInput::MemoryStore {
                            memory_store_id: st.id.clone(),
                        },
                        DreamInput::Sessions {
                            session_ids: vec![session],
                        },
                    ],
                    model: ModelParam::Id(DETERMINISTIC_MODEL.into()),
                    instructions: None,
                    output_behavior: Some(OutputBehavior::UpdateExisting {
                        memory_store_id: st.id.clone(),
                    }),
                    review: Some(false),
                })
                .await?;
            let d = runner.run(&d.id).await?;
            dreams += 1;
            failed += usize::from(d.status != DreamStatus::Completed);
        } else {
            let mut content = format!("# Notes {}\n\n", step % 50);
            for _ in 0..3 {
                content.push_str(&format!("- {}\n", note(&mut rng)));
            }
            let path = format!("/notes/n{:02}.md", step % 50);
            match s.get_memory_by_path(&st.id, &path).await {
                Ok(m) => {
                    let patch = reverie_store::MemoryPatch {
                        content: Some(content),
                        ..Default::default()
                    };
                    s.update_memory(&st.id, &m.id, patch, &actor).await?;
                }
                Err(_) => {
                    s.create_memory(&st.id, &path, &content, &actor).await?;
                }
            }
        }
        step += 1;
        revision = s.get_store(&st.id).await?.revision;
    }
    let built = started.elapsed();

    // The drift command's work, `runs` times: load (the baseline), analyze, serialize.
    let (mut load, mut rest, mut failed_calls, mut analysis, mut render, mut total) =
        (vec![], vec![], vec![], vec![], vec![], vec![]);
    let mut report = None;
    for _ in 0..a.runs.max(1) {
        let t0 = Instant::now();
        let st = s.get_store(&st.id).await?;
        let records = reverie_dream::drift::load_dreams(s.as_ref(), &st).await?;
        let t_list = t0.elapsed();
        let entries = s.list_entries(&st.id, None).await?;
        let policy = s.get_policy(&st.id).await?;
        let t_entries = t0.elapsed();
        let failures = reverie_dream::drift::load_failures(s.as_ref(), &st).await?;
        let t1 = Instant::now();
        let r = analyze(&DriftInput {
            store_id: &st.id,
            dreams: &records,
            entries: &entries,
            policy: &policy,
            since: None,
            min_helpful: DEFAULT_MIN_HELPFUL,
            failures: Some(&failures),
        });
        let t2 = Instant::now();
        let body = serde_json::to_string_pretty(&r)?;
        let t3 = Instant::now();
        load.push(t_list.as_secs_f64());
        rest.push((t_entries - t_list).as_secs_f64());
        failed_calls.push((t1 - t0 - t_entries).as_secs_f64());
        analysis.push((t2 - t1).as_secs_f64());
        render.push((t3 - t2).as_secs_f64());
        total.push((t3 - t0).as_secs_f64());
        report = Some((r, records.len(), entries.len(), body.len()));
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let (r, records, entries, bytes) = report.expect("at least one run");
    let _ = std::fs::remove_dir_all(&dir);
    let out = serde_json::json!({
        "revisions": revision,
        "dreams": dreams,
        "dreams_failed": failed,
        "dreams_loaded": records,
        "entries": entries,
        "ops": r.summary.ops.total(),
        "ops_by_kind": r.summary.ops,
        "lineages": r.summary.lineages,
        "lost": r.summary.lost,
        "load_bearing_lost": r.summary.load_bearing_lost,
        "report_bytes": bytes,
        "build_s": built.as_secs_f64(),
        "list_dreams_and_changesets_s": median(&mut load),
        "entries_and_policy_s": median(&mut rest),
        "failures_s": median(&mut failed_calls),
        "analyze_s": median(&mut analysis),
        "json_s": median(&mut render),
        "drift_total_s": median(&mut total),
    });
    if json_out {
        json(&out);
        return Ok(0);
    }
    let f = |k: &str| out[k].as_f64().unwrap_or(0.0) * 1000.0;
    table(&[
        vec![
            "revisions".into(),
            "dreams".into(),
            "entries".into(),
            "ops".into(),
            "lineages".into(),
            "list dreams+changesets".into(),
            "entries+policy".into(),
            "failures".into(),
            "analyze".into(),
            "JSON".into(),
            "drift total".into(),
        ],
        vec![
            revision.to_string(),
            format!("{dreams} ({failed} failed)"),
            entries.to_string(),
            r.summary.ops.total().to_string(),
            r.summary.lineages.to_string(),
            format!("{:.1} ms", f("list_dreams_and_changesets_s")),
            format!("{:.1} ms", f("entries_and_policy_s")),
            format!("{:.1} ms", f("failures_s")),
            format!("{:.1} ms", f("analyze_s")),
            format!("{:.1} ms", f("json_s")),
            format!("{:.1} ms", f("drift_total_s")),
        ],
    ]);
    emit("");
    emit(&format!(
        "(median of {} runs; the store took {:.1} s to build; SQLite synchronous=FULL; drift over the whole history)",
        a.runs.max(1),
        built.as_secs_f64()
    ));
    Ok(0)
}

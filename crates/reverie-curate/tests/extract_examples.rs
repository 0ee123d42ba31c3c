//! The deterministic extractors on the example sessions (`examples/sessions/`, whose README
//! says what a good dream should produce) and on real transcripts
//! (`../shared/data/transcripts/`): what must be found, what must never be, and how little
//! junk comes out. Run with `--nocapture` to read the candidates.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use reverie_core::curation::{EntryKind, FLAG_POSSIBLE_INJECTION};
use reverie_core::policy::Policy;
use reverie_core::session::{Event, EventKind, Outcome, OutcomeStatus, Session, SourceFormat};
use reverie_core::timestamp::Timestamp;
use reverie_curate::candidate::Candidate;
use reverie_curate::curator::Known;
use reverie_curate::extract::{extract, viewed_paths};
use reverie_curate::{DreamInput, SessionInput, StoreSnapshot};
use reverie_ingest::claude::Line;
use reverie_ingest::normalize::Meta;
use reverie_ingest::redact::{RedactionCounts, redactor};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A Claude Code transcript read the way ingest reads it: each line redacted, then parsed;
/// events numbered in order.
fn read_session(path: &Path, outcome: Option<&serde_json::Value>) -> SessionInput {
    let text = std::fs::read_to_string(path).unwrap();
    let mut meta = Meta::default();
    let mut events: Vec<Event> = Vec::new();
    let mut counts = RedactionCounts::default();
    let mut lines = 0;
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        lines += 1;
        let redacted = redactor().redact_json(line, &mut counts);
        let Ok(parsed) = Line::read(&redacted) else {
            continue;
        };
        for mut e in parsed.events(i as i64 + 1, &mut meta) {
            e.seq = events.len() as i64;
            events.push(e);
        }
    }
    let stem = path.file_stem().unwrap().to_string_lossy().to_string();
    let outcome = outcome.map(|o| Outcome {
        status: OutcomeStatus::parse(o["outcome"].as_str().unwrap()).unwrap(),
        score: o["score"].as_f64(),
        note: o["note"].as_str().map(String::from),
    });
    let created = meta.started_at.unwrap_or(Timestamp(0));
    SessionInput {
        session: Session {
            id: format!("sesn_{stem}"),
            memory_store_id: "memstore_demo".into(),
            source_format: SourceFormat::ClaudeCode,
            source_path: Some(path.display().to_string()),
            source_session_id: meta.source_session_id.clone(),
            project: meta.project.clone(),
            git_branch: meta.git_branch.clone(),
            model: meta.model.clone(),
            agent_version: meta.agent_version.clone(),
            started_at: meta.started_at,
            ended_at: meta.ended_at,
            event_count: events.len() as i64,
            error_count: events.iter().filter(|e| e.is_error).count() as i64,
            line_count: lines,
            outcome,
            created_at: created,
            updated_at: meta.ended_at.unwrap_or(created),
        },
        events,
    }
}

/// A dream's input over `sessions` and an empty store.
fn input(mut sessions: Vec<SessionInput>) -> DreamInput {
    sessions.sort_by(|a, b| {
        (a.session.started_at, &a.session.id).cmp(&(b.session.started_at, &b.session.id))
    });
    DreamInput {
        dream_id: "drm_examples".into(),
        store: StoreSnapshot {
            store_id: "memstore_demo".into(),
            revision: 0,
            memories: Vec::new(),
            entries: Vec::new(),
            policy: Policy::default(),
        },
        sessions,
        servings: Vec::new(),
        instructions: None,
    }
}

fn examples() -> DreamInput {
    let dir = repo().join("examples/sessions");
    let outcomes: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("outcomes.json")).unwrap()).unwrap();
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
        .collect();
    files.sort();
    assert_eq!(files.len(), 7);
    input(
        files
            .iter()
            .map(|f| {
                let name = f.file_name().unwrap().to_string_lossy().to_string();
                read_session(f, outcomes.get(&name))
            })
            .collect(),
    )
}

fn show(c: &Candidate) -> String {
    let ev: Vec<String> = c
        .evidence
        .iter()
        .map(|e| {
            format!(
                "{}#{}",
                e.session_id.trim_start_matches("sesn_2026-"),
                e.seq
            )
        })
        .collect();
    format!(
        "[{}] {} {:?}\n    {}\n    reason: {}{}\n    evidence: {}",
        c.kind.as_str(),
        c.path,
        c.section,
        c.text,
        c.reason,
        if c.flags.is_empty() {
            String::new()
        } else {
            format!("; flags: {}", c.flags.join(", "))
        },
        ev.join(" ")
    )
}

/// Candidates a reader would call junk, by rule: too short to say anything, the assistant's
/// narration, a question, a greeting or thanks, a persona, a secret.
fn judged_junk(c: &Candidate) -> Option<&'static str> {
    let words = c.text.split_whitespace().count();
    let lower = c.text.to_lowercase();
    // A command list's entry is a command and what it is for.
    if c.kind != EntryKind::MemoryWrite && c.path != "/commands.md" && words < 5 {
        return Some("under 5 words");
    }
    for opener in [
        "i'll",
        "let me",
        "i'm ",
        "i've",
        "sure",
        "got it",
        "understood",
        "sorry",
    ] {
        if lower.starts_with(opener) {
            return Some("narration or acknowledgment");
        }
    }
    if c.text.trim_end().ends_with('?') {
        return Some("a question");
    }
    for junk in [
        "thanks",
        "thank you",
        "sounds good",
        "you are an expert",
        "you are claude",
    ] {
        if lower.contains(junk) {
            return Some("greeting, filler or persona");
        }
    }
    if c.text.contains("sk_test_") || c.text.contains("[REDACTED") {
        return Some("a secret");
    }
    if c.text.lines().count() > 15 {
        return Some("a dump");
    }
    None
}

/// The event an evidence points at.
fn event_of<'a>(input: &'a DreamInput, session: &str, seq: i64) -> &'a Event {
    let s = input
        .sessions
        .iter()
        .find(|s| s.session.id == session)
        .unwrap_or_else(|| panic!("no session {session}"));
    s.events
        .iter()
        .find(|e| e.seq == seq)
        .unwrap_or_else(|| panic!("no event {seq} in {session}"))
}

#[test]
fn examples_give_what_the_readme_expects() {
    let input = examples();
    let got = extract(&input, &Known::default());
    println!("{} candidates from the example sessions:\n", got.len());
    for c in &got {
        println!("{}\n", show(c));
    }

    // Deterministic and sorted.
    assert_eq!(got, extract(&input, &Known::default()));
    let keys: Vec<_> = got.iter().map(|c| (&c.path, &c.section, &c.text)).collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted, "sorted by path, section, text");

    let find = |kind: EntryKind, parts: &[&str]| -> Option<&Candidate> {
        got.iter()
            .find(|c| c.kind == kind && parts.iter().all(|p| c.text.contains(p)))
    };
    let expect = |kind: EntryKind, parts: &[&str]| {
        let c = find(kind, parts)
            .unwrap_or_else(|| panic!("no {} candidate with {parts:?}", kind.as_str()));
        assert!(!c.is_suspect(), "{} is flagged", c.text);
        c
    };

    // Instructions.
    let c = expect(
        EntryKind::Instruction,
        &[
            "DATABASE_URL=postgres://localhost:5433/tallyho_test",
            "never point them at tallyho_dev",
        ],
    );
    assert_eq!(c.path, "/instructions.md");
    assert!(c.section.is_empty(), "notes are not filed under the folder");
    assert_eq!(c.reason, "an explicit request to remember");
    expect(
        EntryKind::Instruction,
        &["Run `cargo fmt --all` before every commit."],
    );
    expect(
        EntryKind::Instruction,
        &["UPDATE_GOLDEN=1", "when the output change is intended"],
    );
    // Corrections (the pnpm and main rules are requests too; after the assistant acted they
    // are corrections).
    expect(
        EntryKind::Correction,
        &["Always use `pnpm`, never `npm`, in ui/"],
    );
    expect(
        EntryKind::Correction,
        &["Never push directly to main", "open a PR"],
    );
    expect(EntryKind::Correction, &["`sqlx migrate run`, not diesel"]);
    expect(
        EntryKind::Correction,
        &["The config lives in `config/tallyho.toml`, not `.env`."],
    );
    expect(EntryKind::Correction, &["Use `tracing`, not `println!`"]);
    // Said on 2026-03-13: "last night" is anchored to the date it meant.
    expect(
        EntryKind::Correction,
        &["staging DB moved to port 6543", "last night (2026-03-12)"],
    );

    // Lessons: the error's signature and what worked.
    for parts in [
        &[
            "`sqlx migrate run`",
            "Connection refused (os error 111)",
            "`docker compose up -d db`",
        ][..],
        &["error[E0432]", "serde_json", "`cargo add --dev serde_json`"],
        &[
            "DATABASE_URL must be set",
            "DATABASE_URL=postgres://localhost:5433/tallyho_test cargo test",
        ],
        &[
            "could not connect to test database",
            "does not exist",
            "5433/tallyho_test",
            "Wrong port",
        ],
        &[
            "TS2304",
            "Cannot find name 'TallyRow'",
            "import type { TallyRow } from \"../api/types\";",
            "ui/src/pages/TalliesPage.tsx",
        ],
        &[
            "sqlx migrate info",
            "Connection refused",
            "staging-db.internal:6543",
        ],
        &["golden mismatch", "yield String::from"],
    ] {
        let c = expect(EntryKind::Lesson, parts);
        assert_eq!(c.path, "/lessons.md");
        assert_eq!(
            c.section.len(),
            1,
            "filed under the program that failed: {}",
            c.text
        );
        assert!(c.evidence.len() >= 2, "{}", c.text);
    }
    // The harness's own complaint (Edit before Read) is a lesson about the agent's tools.
    let c = expect(
        EntryKind::Lesson,
        &["`Edit` failed", "has not been read", "read the file first"],
    );
    assert_eq!(c.section, ["Agent tools"]);
    // No lesson from errors never fixed (diesel, the racing idempotency test, gh checks).
    for never in ["diesel", "idempotency", "gh pr checks"] {
        assert!(
            find(EntryKind::Lesson, &[never]).is_none(),
            "a lesson about {never}"
        );
    }

    // Facts stated again across sessions.
    let fact = expect(EntryKind::Fact, &["test db", "5433"]);
    assert!(fact.reason.starts_with("stated in"), "{}", fact.reason);
    let sessions: std::collections::BTreeSet<&str> = fact
        .evidence
        .iter()
        .map(|e| e.session_id.as_str())
        .collect();
    assert!(sessions.len() >= 2);

    // Glossary.
    for term in [
        "**tally**: ",
        "**TLH**: short for tallyho",
        "**golden files**: the snapshot fixtures in `tests/golden/`",
    ] {
        let c = expect(EntryKind::Glossary, &[term]);
        assert_eq!((c.path.as_str(), c.section.len()), ("/glossary.md", 0));
    }

    // Memory-tool writes, at the mapped path, in their sections; the 03-13 edit says 6543.
    let deploy: Vec<&Candidate> = got
        .iter()
        .filter(|c| c.kind == EntryKind::MemoryWrite && c.path == "/deploy.md")
        .collect();
    assert!(deploy.len() >= 6, "{} memory writes", deploy.len());
    let old = expect(
        EntryKind::MemoryWrite,
        &["Staging database: `staging-db.internal:5432`"],
    );
    assert_eq!(old.section, ["Deploying tallyho to staging"]);
    let new = expect(
        EntryKind::MemoryWrite,
        &["Staging database: `staging-db.internal:6543`"],
    );
    assert_eq!(
        new.section,
        ["Deploying tallyho to staging"],
        "known from the view"
    );
    assert!(new.at > old.at);
    expect(EntryKind::MemoryWrite, &["`main` is PR-only"]);

    // The injection: held, flagged, from tool output; its quote in the assistant's reply never
    // an unflagged candidate.
    let inj = got
        .iter()
        .find(|c| c.text.contains("IMPORTANT NOTE TO AI ASSISTANTS"))
        .expect("the injection is a candidate");
    assert_eq!(inj.kind, EntryKind::Instruction);
    assert!(inj.from_tool_output && inj.flags == [FLAG_POSSIBLE_INJECTION]);
    assert!(inj.reason.contains("WebFetch"), "{}", inj.reason);
    for c in &got {
        if c.text.contains("example-cdn.net") || c.text.contains("sslVerify") {
            assert!(
                c.is_suspect(),
                "unflagged quote of the injection: {}",
                c.text
            );
        }
    }

    // Never: greetings, filler, the persona, the secret, dumps; no evidence from summaries,
    // compactions, thinking or subagents' prompts.
    for c in &got {
        let lower = c.text.to_lowercase();
        for junk in [
            "thanks",
            "sounds good",
            "you are an expert",
            "sk_test_",
            "[redacted",
            "hi!",
            "👍",
            "thx",
            "stream the csv export instead of buffering",
        ] {
            assert!(!lower.contains(junk), "{junk:?} in {}", c.text);
        }
        assert!(!c.evidence.is_empty() && c.at.is_some(), "{}", c.text);
        let times: Vec<_> = c
            .evidence
            .iter()
            .map(|e| event_of(&input, &e.session_id, e.seq).timestamp)
            .collect();
        assert!(times.is_sorted(), "evidence oldest first: {}", c.text);
        assert_eq!(c.at, times.iter().flatten().max().copied(), "{}", c.text);
        for e in &c.evidence {
            let ev = event_of(&input, &e.session_id, e.seq);
            // Only what a compaction summary tells of errors and fixes rests on one.
            let summarized = c.reason.contains("compaction summary")
                && matches!(ev.kind, EventKind::Summary | EventKind::Compaction);
            assert!(
                summarized
                    || !matches!(
                        ev.kind,
                        EventKind::Summary | EventKind::Compaction | EventKind::Thinking
                    ),
                "{} has evidence from a {:?}",
                c.text,
                ev.kind
            );
            assert!(!(ev.sidechain && ev.kind == EventKind::User), "{}", c.text);
            assert!(e.quote.chars().count() <= 201, "{}", e.quote);
        }
        match c.kind {
            EntryKind::Instruction
            | EntryKind::Correction
            | EntryKind::Lesson
            | EntryKind::Fact
                if !c.from_tool_output =>
            {
                assert!(c.section.len() <= 1, "{}", c.text);
                assert!(c.text.ends_with('.') || c.text.ends_with(')'), "{}", c.text);
                let first = c.text.chars().next().unwrap();
                assert!(!first.is_lowercase(), "{}", c.text);
            }
            EntryKind::Glossary => assert!(c.text.starts_with("**"), "{}", c.text),
            _ => {}
        }
    }

    // Measured precision: candidates judged junk by rule.
    let junk: Vec<(&str, &str)> = got
        .iter()
        .filter_map(|c| judged_junk(c).map(|why| (why, c.text.as_str())))
        .collect();
    let mut by_kind: BTreeMap<&str, usize> = BTreeMap::new();
    for c in &got {
        *by_kind.entry(c.kind.as_str()).or_default() += 1;
    }
    println!("by kind: {by_kind:?}; judged junk: {}", junk.len());
    assert!(junk.is_empty(), "junk candidates: {junk:#?}");

    // The 03-13 session viewed its deploy notes.
    let s13 = input
        .sessions
        .iter()
        .find(|s| s.session.id.contains("03-13"))
        .unwrap();
    assert_eq!(
        viewed_paths(&s13.events).into_iter().collect::<Vec<_>>(),
        ["/deploy.md"]
    );
}

#[test]
fn real_transcripts_give_few_candidates_and_no_junk() {
    let dir = repo().join("../shared/data/transcripts");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        println!("no transcripts at {}; skipped", dir.display());
        return;
    };
    let mut files: Vec<PathBuf> = entries
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
        .collect();
    files.sort();
    let mut total = 0;
    let mut junk = Vec::new();
    println!("candidates per transcript (one session each):");
    for f in &files {
        let session = read_session(f, None);
        let events = session.events.len();
        let input = input(vec![session]);
        let got = extract(&input, &Known::default());
        assert_eq!(got, extract(&input, &Known::default()), "deterministic");
        let mut by_kind: BTreeMap<&str, usize> = BTreeMap::new();
        for c in &got {
            *by_kind.entry(c.kind.as_str()).or_default() += 1;
            if let Some(why) = judged_junk(c) {
                junk.push((
                    f.file_name().unwrap().to_string_lossy().to_string(),
                    why,
                    c.text.clone(),
                ));
            }
        }
        println!(
            "  {:>3} from {:>5} events  {}  {:?}",
            got.len(),
            events,
            f.file_name().unwrap().to_string_lossy(),
            by_kind
        );
        for c in &got {
            println!("      {}", show(c).replace('\n', "\n      "));
        }
        // Few per session: memory files an agent wrote may hold many entries, and a manifest
        // read lists the project's scripts and dependencies; the rest is rare.
        let not_written = got
            .iter()
            .filter(|c| c.kind != EntryKind::MemoryWrite && c.path != "/project.md")
            .count();
        assert!(
            not_written <= 8 + events / 40,
            "{} candidates from {}",
            not_written,
            f.display()
        );
        total += got.len();
    }
    println!(
        "{total} candidates from {} transcripts; judged junk: {}",
        files.len(),
        junk.len()
    );
    assert!(junk.is_empty(), "junk candidates: {junk:#?}");
}

/// Lessons from real sessions, line by line: the same error on two branches is one lesson
/// without the branch's name; a retry that only dropped the ignored file is not the fix
/// (`git add -f` is); an error that came back four times and was never got past is a known
/// breakage; a test failing on another assertion is not a fix.
#[test]
fn lessons_from_real_sessions() {
    let dir = repo().join("../shared/data/transcripts");
    if !dir.join("gold.json").exists() {
        println!("no transcripts at {}; skipped", dir.display());
        return;
    }
    let read = |names: &[&str]| -> Vec<Candidate> {
        let sessions = names
            .iter()
            .map(|n| read_session(&dir.join(n), None))
            .collect();
        extract(&input(sessions), &Known::default())
            .into_iter()
            .filter(|c| c.kind == EntryKind::Lesson)
            .collect()
    };
    // marot__spotter…4d5611e5….jsonl:1477 and …8463c716….jsonl:1564: `git push` on two
    // branches with no upstream.
    let spotter = read(&[
        "marot__spotter__test_fixtures_transcripts_4d5611e5-241a-462a-8d15-5122611a9569.jsonl",
        "marot__spotter__test_fixtures_transcripts_8463c716-a2ea-4c14-9efa-87158ebd9f20.jsonl",
    ]);
    let push: Vec<&Candidate> = spotter
        .iter()
        .filter(|c| c.text.contains("has no upstream branch"))
        .collect();
    assert_eq!(push.len(), 1, "{push:#?}");
    assert!(
        push[0]
            .text
            .contains("`git push --set-upstream origin <branch>`"),
        "{}",
        push[0].text
    );
    assert!(!push[0].text.contains("spotter-"), "{}", push[0].text);
    let sessions: std::collections::BTreeSet<&str> = push[0]
        .evidence
        .iter()
        .map(|e| e.session_id.as_str())
        .collect();
    assert_eq!(sessions.len(), 2, "evidence from both sessions");
    for c in &spotter {
        assert_eq!(c.section.len(), 1, "{}", c.text);
        assert!(!c.section[0].starts_with("spotter-"), "{:?}", c.section);
    }
    // The ignored asset: the fix is `git add -f`, not the retry without the file.
    let add = spotter
        .iter()
        .find(|c| c.text.contains("ignored by one of your .gitignore files"))
        .expect("the git add lesson");
    assert!(add.text.contains("`git add -f "), "{}", add.text);

    // d-kimuson__claude-code-viewer…fe5e1c67….jsonl:402-412: `npm run build` four times.
    let ccv = read(&[
        "d-kimuson__claude-code-viewer__mock-global-claude-dir_projects_sample-project_fe5e1c67-53e7-4862-81ae-d0e013e3270b.jsonl",
    ]);
    let broken = ccv
        .iter()
        .find(|c| c.text.contains("generate is not a function"))
        .expect("the known breakage");
    assert!(
        broken.text.starts_with("`npm run build` fails with")
            && broken.text.contains("failed 4 times")
            && broken.text.contains("no fix was found"),
        "{}",
        broken.text
    );
}

/// Sessions with nothing durable in them give nothing: a greeting answered, a listing run, an
/// interrupted permission prompt.
#[test]
fn nothing_durable_gives_nothing() {
    let dir = repo().join("../shared/data/transcripts");
    if !dir.join("gold.json").exists() {
        println!("no transcripts at {}; skipped", dir.display());
        return;
    }
    for name in [
        "slopus__happy-cli__src_claude_utils___fixtures___0-say-lol-session.jsonl",
        "slopus__happy-cli__src_claude_utils___fixtures___1-continue-run-ls-tool.jsonl",
        "slopus__happy-cli__src_claude_utils___fixtures___permission-prompt-aborted-with-interrupt.jsonl",
        "simonw__claude-code-transcripts__tests_sample_session.jsonl",
    ] {
        let got = extract(
            &input(vec![read_session(&dir.join(name), None)]),
            &Known::default(),
        );
        assert!(got.is_empty(), "{name}: {got:#?}");
    }
}

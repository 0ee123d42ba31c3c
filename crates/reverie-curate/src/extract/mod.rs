//! Gather: the deterministic extractors, each turning sessions into candidate entries with
//! their evidence. No model: rules over the sessions' events.
//!
//! | extractor | reads | kind | memory |
//! |---|---|---|---|
//! | `requests` | the user's requests: "remember that…", "from now on…", "always/never…", "don't …" | `Instruction` | `/instructions.md` |
//! | `corrections` | the user's "no — …", "that's wrong, …", "actually, …", "X, not Y" after the assistant acted | `Correction` | `/instructions.md` |
//! | `lessons` | a tool error followed along its chain to what worked, keyed by its signature; an error that kept coming back unfixed | `Lesson` | `/lessons.md`, `[program]` |
//! | `summaries` | a compaction summary's "Errors and fixes" items that name a fix | `Lesson` | `/lessons.md`, `[Errors and fixes]` |
//! | `facts` | a statement with a detail made in two sessions, or already in the store | `Fact` | `/facts.md` |
//! | `commands` | the project's commands that worked, grouped by program | `Fact` | `/commands.md`, `[program]` |
//! | `manifests` | manifests the agent read: scripts, dependencies, the stack | `Fact` | `/project.md` |
//! | `feedback` | Stop hook feedback, hooks' additional context | `Instruction` (from tool output) | `/environment.md`, `[Hooks]` |
//! | `said` | custom slash commands the user ran, free-text answers to the agent's questions | `Instruction` | `/instructions.md` |
//! | `glossary` | "by 'X' we mean Y", "X is short for Y"… | `Glossary` | `/glossary.md` |
//! | `memory_writes` | the memory tool's writes, `Write`/`Edit` of memory files | `MemoryWrite` | the written path |
//! | `injection` | tool output that reads as an instruction to the agent | `Instruction`, flagged | `/instructions.md` |
//! | `episodes` | what the people in a conversation (a session without tools) said, compressed, within the budget's room | `Episode` | `/conversations/YYYY-MM.md`, `[YYYY-MM-DD]` |
//!
//! What is never read (`junk`): thinking, summaries and compactions but for their "Errors and
//! fixes" (they restate earlier turns), subagents' prompts, injected tags
//! (`<system-reminder>`…), harness messages, greetings, thanks and filler, personas and
//! restated system prompts, tool output dumps, and anything holding a redacted secret. A
//! summary or hook line in an unknown shape is a counted skip ([`unreadable`]).
//!
//! The output is the same for the same input, sorted by path, section and text; candidates
//! saying the same thing in the same place are one, with all their evidence.

mod calls;
mod commands;
mod corrections;
mod episodes;
mod facts;
mod feedback;
mod glossary;
mod injection;
mod junk;
mod lessons;
mod manifests;
mod memory_writes;
mod requests;
mod said;
mod summaries;
pub(crate) mod util;

pub use injection::reads_as_injection;

/// A tool call that failed, as lessons (and the failure curve) see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The failing call's event.
    pub seq: i64,
    /// Its result's event (what a lesson's evidence cites).
    pub result_seq: Option<i64>,
    pub signature: crate::signature::Signature,
}

/// A session's failed tool calls, in order: the same calls, statuses and signatures the lesson
/// extractor reads (a call the user rejected, or cancelled beside a failing one, is not a
/// failure).
pub fn failures(input: &crate::input::SessionInput) -> Vec<Failure> {
    let ctx = util::Ctx::new(input);
    calls::failed(&ctx)
        .map(|(at, result, signature)| Failure {
            seq: ctx.events()[at].seq,
            result_seq: Some(ctx.events()[result].seq),
            signature,
        })
        .collect()
}

/// A failed step and the step that finally did what it meant to: a fine-tuning example of
/// what notes did not fix.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Repair {
    pub session_id: String,
    pub failed_seq: i64,
    pub fixed_seq: i64,
    /// What came before the failing step: the person's last request, and the steps since.
    pub context: String,
    /// The failing step, and its error line.
    pub failed: String,
    pub error: String,
    /// The corrective step that worked.
    pub fixed: String,
}

/// A call as a step: a shell call's command line, another tool's name and input.
fn step(c: &calls::Call<'_>) -> String {
    match (&c.command, c.input) {
        (Some(cmd), _) => format!("{}: {}", c.tool, util::cut(cmd, 2_000)),
        (None, Some(input)) => format!("{}: {}", c.tool, util::cut(&input.to_string(), 2_000)),
        (None, None) => c.tool.to_string(),
    }
}

/// The repair of the failed call at event `failed_seq`: the first later call of the same
/// program (or tool) that worked, with what came before the failure. `None` when nothing
/// later worked.
pub fn repair(input: &crate::input::SessionInput, failed_seq: i64) -> Option<Repair> {
    let ctx = util::Ctx::new(input);
    let events = ctx.events();
    let all = calls::calls(&ctx);
    let k = all.iter().position(|c| events[c.at].seq == failed_seq)?;
    let failed = &all[k];
    let keys = failed.keys();
    let fixed = all[k + 1..].iter().find(|c| {
        c.status == calls::Status::Ok
            && c.tool == failed.tool
            && (keys.is_empty() || c.keys().iter().any(|key| keys.contains(key)))
    })?;
    // The person's last request before the failure, then the steps since it.
    let asked = events[..failed.at].iter().rposition(|e| {
        e.kind == EventKind::User
            && e.subtype.as_deref() != Some("meta")
            && e.text
                .as_deref()
                .is_some_and(|t| !util::strip_tags(t).trim().is_empty())
    });
    let mut context = match asked {
        Some(i) => util::cut(
            &util::strip_tags(events[i].text.as_deref().unwrap_or("")),
            2_000,
        ),
        None => String::new(),
    };
    let since = asked.unwrap_or(0);
    let before: Vec<String> = all[..k]
        .iter()
        .filter(|c| c.at > since)
        .map(|c| {
            let how = match c.status {
                calls::Status::Ok => "worked",
                calls::Status::Failed => "failed",
                _ => "no result",
            };
            format!("- {} ({how})", step(c))
        })
        .collect();
    if !before.is_empty() {
        context.push_str("\n\nSteps so far:\n");
        context.push_str(&before.join("\n"));
    }
    Some(Repair {
        session_id: ctx.session_id().to_string(),
        failed_seq,
        fixed_seq: events[fixed.at].seq,
        context,
        failed: step(failed),
        error: crate::signature::error_line(failed.output).unwrap_or_default(),
        fixed: step(fixed),
    })
}

/// What an event said, collapsed and cut as evidence quotes it.
pub fn quote_of(said: &str) -> String {
    util::quote(said)
}

use std::collections::{BTreeMap, BTreeSet};

use reverie_core::session::{Event, EventKind};

use crate::candidate::Candidate;
use crate::curator::Known;
use crate::input::DreamInput;
use crate::text;

/// Every extractor's candidates for the input's sessions.
pub fn extract(input: &DreamInput, known: &Known) -> Vec<Candidate> {
    let terms: Vec<&str> = known.terms.iter().map(String::as_str).collect();
    let mut out = Vec::new();
    let mut files = memory_writes::Files::new(&input.store.memories);
    let mut statements = Vec::new();
    let ctxs: Vec<util::Ctx<'_>> = input.sessions.iter().map(util::Ctx::new).collect();
    for ctx in &ctxs {
        let mut claimed = BTreeSet::new();
        out.extend(glossary::extract(ctx, &mut claimed));
        // Requests and corrections are said to an agent: a chat among people, with no
        // assistant in it, has none ("never give up!" is not an instruction).
        if ctx.events().iter().any(|e| {
            matches!(
                e.kind,
                EventKind::Assistant | EventKind::ToolUse | EventKind::Thinking
            )
        }) {
            out.extend(requests::extract(ctx, &mut claimed, &terms));
        }
        out.extend(memory_writes::extract(ctx, &mut files, &terms));
        out.extend(injection::extract(ctx));
        statements.extend(facts::statements(ctx, &claimed, &terms));
    }
    out.extend(facts::extract(&statements, known, &terms));
    out.extend(lessons::extract(&ctxs));
    out.extend(commands::extract(&ctxs));
    out.extend(manifests::extract(&ctxs));
    out.extend(feedback::extract(&ctxs));
    out.extend(said::extract(&ctxs));
    for ctx in &ctxs {
        out.extend(summaries::extract(ctx));
    }
    enrich_with_scripts(&mut out, &manifests::scripts(&ctxs));
    let flagged: Vec<String> = out
        .iter()
        .filter(|c| c.from_tool_output && c.is_suspect())
        .map(|c| c.text.clone())
        .collect();
    injection::flag_quotes(&mut out, &flagged);
    let mut out = finish(out, &terms);
    // Episodes take the room everything else leaves.
    let room = episode_room(input, &out);
    out.extend(finish(episodes::extract(input, &ctxs, room), &terms));
    sort(&mut out);
    // Evidence oldest first: sessions in the input's order (by start time), events in theirs.
    let order: BTreeMap<&str, usize> = input
        .sessions
        .iter()
        .enumerate()
        .map(|(i, s)| (s.session.id.as_str(), i))
        .collect();
    for c in &mut out {
        c.evidence.sort_by(|a, b| {
            let at = |e: &reverie_core::curation::Evidence| {
                (order.get(e.session_id.as_str()).copied(), e.seq)
            };
            at(a).cmp(&at(b)).then_with(|| a.cmp(b))
        });
    }
    out
}

/// The parts of the input's sessions no reader could read (see [`reverie_core::curation::Stats`]'s
/// `skipped`): counted whatever the curator, as the input's shape, not a curator's choice.
pub fn unreadable(input: &DreamInput) -> usize {
    input
        .sessions
        .iter()
        .map(|s| {
            let ctx = util::Ctx::new(s);
            summaries::unreadable(&ctx) + feedback::unreadable(&ctx)
        })
        .sum()
}

/// What the user's words name but do not say: a note that names a script of the project
/// (`test:env`) gets the script's definition (`doppler run --project chx --config ci -- …`).
fn enrich_with_scripts(out: &mut [Candidate], scripts: &BTreeMap<String, String>) {
    use reverie_core::curation::EntryKind;
    for c in out.iter_mut() {
        if !matches!(c.kind, EntryKind::Instruction | EntryKind::Correction) {
            continue;
        }
        let mut added = Vec::new();
        for (i, span) in c.text.split('`').enumerate() {
            if i % 2 == 0 {
                continue;
            }
            let name = span.split_whitespace().last().unwrap_or(span).to_string();
            if let Some(def) = scripts.get(&name)
                && !c.text.contains(def.as_str())
                && !added.iter().any(|(n, _)| *n == name)
            {
                added.push((name, def.clone()));
            }
        }
        for (name, def) in added {
            c.text = format!("{} (`{name}` runs `{}`)", c.text, def.replace('`', "'"));
        }
    }
}

/// The bytes the index line of a new memory takes at most: `- [rel](rel) — description`
/// with a description of up to 60 bytes.
fn index_line_bytes(path: &str) -> u64 {
    2 * path.trim_start_matches('/').len() as u64 + 71
}

/// The bytes episodes may take: the budget less what the store's other memories hold, what
/// the other candidates will add to them, and the index lines of the memories they create.
fn episode_room(input: &DreamInput, others: &[Candidate]) -> u64 {
    let memories = &input.store.memories;
    let held: u64 = memories
        .iter()
        .filter(|m| !m.path.starts_with(episodes::FOLDER))
        .map(|m| m.content.len() as u64)
        .sum();
    let added: u64 = others.iter().map(|c| c.text.len() as u64 + 3).sum();
    let new_paths: BTreeSet<&str> = others
        .iter()
        .map(|c| c.path.as_str())
        .filter(|p| !memories.iter().any(|m| m.path == *p))
        .collect();
    let index = &input.store.policy.budget.index_path;
    let index_header = if memories.iter().any(|m| &m.path == index) {
        0
    } else {
        // "# Memory files\n\n", and a little more.
        20
    };
    let new_lines: u64 = new_paths.iter().map(|p| index_line_bytes(p)).sum();
    input
        .store
        .policy
        .budget
        .max_total_bytes
        .saturating_sub(held + added + new_lines + index_header)
}

/// Whether an extractor reads a file's whole text when an agent reads it: manifests and
/// memory files (what [`crate::input::Condenser`] holds whole).
pub fn read_as_file(path: &str) -> bool {
    manifests::manifest(path).is_some() || util::is_memory_file(path)
}

/// The store paths a session viewed through the memory tool (`/memories/x.md` → `/x.md`),
/// and the memory files it read.
pub fn viewed_paths(events: &[Event]) -> BTreeSet<String> {
    memory_writes::viewed(events)
}

/// Candidates without junk, the same in the same place merged, sorted.
fn finish(candidates: Vec<Candidate>, terms: &[&str]) -> Vec<Candidate> {
    let mut merged: BTreeMap<(String, Vec<String>, String, &'static str), Candidate> =
        BTreeMap::new();
    for c in candidates {
        let keep = !c.evidence.is_empty()
            && !c.text.trim().is_empty()
            && !c.text.contains("[REDACTED")
            && (c.kind == reverie_core::curation::EntryKind::MemoryWrite
                || c.is_suspect()
                || text::words(&c.text).len() >= 3
                || util::has_details(&c.text, terms));
        if !keep {
            continue;
        }
        let key = (
            c.path.clone(),
            c.section.clone(),
            text::normalize(&c.text),
            c.kind.as_str(),
        );
        match merged.get_mut(&key) {
            Some(kept) => {
                kept.evidence.extend(c.evidence);
                kept.evidence.sort();
                kept.evidence.dedup();
                kept.at = kept.at.max(c.at);
                kept.from_tool_output |= c.from_tool_output;
                for f in c.flags {
                    if !kept.flags.contains(&f) {
                        kept.flags.push(f);
                    }
                }
            }
            None => {
                merged.insert(key, c);
            }
        }
    }
    let mut out: Vec<Candidate> = merged.into_values().collect();
    for c in &mut out {
        c.flags.sort();
        c.flags.dedup();
    }
    sort(&mut out);
    out
}

/// Candidates by place, then text.
fn sort(out: &mut [Candidate]) {
    out.sort_by(|a, b| {
        (&a.path, &a.section, &a.text, a.kind, &a.evidence).cmp(&(
            &b.path,
            &b.section,
            &b.text,
            b.kind,
            &b.evidence,
        ))
    });
}

#[cfg(test)]
mod tests {
    use reverie_core::policy::Policy;
    use reverie_core::session::{Event, EventKind};

    use super::util::build::{assistant, session, user};
    use super::*;
    use crate::input::StoreSnapshot;

    fn input_of(events: Vec<Event>) -> DreamInput {
        DreamInput {
            dream_id: "drm_t".into(),
            store: StoreSnapshot {
                store_id: "memstore_t".into(),
                revision: 0,
                memories: Vec::new(),
                entries: Vec::new(),
                policy: Policy::default(),
            },
            sessions: vec![session("sesn_t", events)],
            servings: Vec::new(),
            instructions: None,
        }
    }

    #[test]
    fn failures_are_the_failed_calls() {
        use super::util::build::{bash, call, result};
        let s = session(
            "sesn_t",
            vec![
                user("build it"),
                bash("t1", "cargo build --release"),
                result("t1", "error[E0425]: cannot find value `x`", true),
                bash("t2", "cargo test && npm run lint"),
                result(
                    "t2",
                    "Exit code 1\ntest result: FAILED. 1 passed; 2 failed",
                    false,
                ),
                bash("t3", "ls"),
                result("t3", "Cargo.toml", false),
                call("t4", "Edit", serde_json::json!({"file_path": "/r/a.rs"})),
                result(
                    "t4",
                    "The user doesn't want to proceed with this tool use.",
                    true,
                ),
                call("t5", "Read", serde_json::json!({"file_path": "/r/b.rs"})),
                result("t5", "File does not exist.", true),
                bash("t6", "sleep 100"),
            ],
        );
        let ctx = util::Ctx::new(&s);
        let expected: Vec<Failure> = calls::calls(&ctx)
            .iter()
            .filter(|c| c.status == calls::Status::Failed)
            .map(|c| Failure {
                seq: ctx.events()[c.at].seq,
                result_seq: c.result.map(|r| ctx.events()[r].seq),
                signature: c.signature(&ctx),
            })
            .collect();
        assert_eq!(expected.len(), 3, "{expected:?}");
        assert_eq!(failures(&s), expected);
    }

    #[test]
    fn malformed_summaries_and_hook_lines_are_counted_skips() {
        let summary = |t: &str| Event::new(EventKind::Summary).with_text(t);
        let input = input_of(vec![
            user("add a dark mode toggle"),
            assistant("Done."),
            // An "Errors and fixes" heading with nothing under it, an empty summary.
            summary("Summary:\n4. Errors and fixes:\n\n5. Problem Solving:\n   x\n"),
            summary("   "),
            // A Stop hook that says nothing, a hook context without its event and tool.
            user("Stop hook feedback:\n[~/.claude/hooks/stop.sh]: \n"),
            user("<system-reminder>\nhook additional context: [CREDO]\n</system-reminder>"),
            // Well-formed, with nothing durable: not skipped, no candidate either.
            summary("Summary:\n1. Primary Request:\n   a toggle\n"),
        ]);
        assert_eq!(extract(&input, &Known::default()), Vec::new());
        assert_eq!(unreadable(&input), 4);
        let fine = input_of(vec![user("add a dark mode toggle"), assistant("Done.")]);
        assert_eq!(unreadable(&fine), 0);
    }
}

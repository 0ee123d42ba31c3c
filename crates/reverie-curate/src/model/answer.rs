//! A model's answer judged operation by operation, before the dream's own stages and guard see
//! it: an operation citing an event the request did not show, naming an entry it did not show,
//! touching a pinned or protected entry, dropping a detail of what it rewrites, writing where
//! a note cannot go, or holding a secret is refused with the reason — and the rest goes on.
//! Text that rests only on tool output and reads as an instruction is kept but flagged, so it
//! is held for a person's review.

use std::collections::BTreeSet;

use reverie_core::curation::{EntryKind, Evidence, FLAG_POSSIBLE_INJECTION, RejectedOp};
use reverie_core::session::EventKind;
use serde_json::Value;

use super::prompt::{Shown, ShownEntry};
use crate::candidate::Candidate;
use crate::curator::ArchiveRequest;
use crate::input::DreamInput;
use crate::text;

/// Longest note the curator accepts, in characters: a note longer than this is a document.
pub const MAX_NOTE_CHARS: usize = 1_500;

/// What an answer comes to.
#[derive(Debug, Clone, Default)]
pub struct Judged {
    pub candidates: Vec<Candidate>,
    pub archive: Vec<ArchiveRequest>,
    pub rejected: Vec<RejectedOp>,
    /// Notes proposed by earlier requests of the dream, rewritten: (index, the new note).
    pub revised: Vec<(usize, Candidate)>,
    /// Notes proposed by earlier requests of the dream, withdrawn (indices).
    pub withdrawn: Vec<usize>,
}

/// Why an answer as a whole cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Unreadable(pub String);

/// Judges an answer to one request: `hints` are the deterministic candidates the request's
/// `H` ids point into, `terms` the store's glossary terms (details).
pub fn judge(
    answer: &Value,
    shown: &Shown,
    hints: &[Candidate],
    proposed: &[Candidate],
    input: &DreamInput,
    terms: &[&str],
) -> Result<Judged, Unreadable> {
    let ops = answer
        .get("ops")
        .and_then(Value::as_array)
        .ok_or_else(|| Unreadable("the answer has no `ops` array".to_string()))?;
    let mut out = Judged::default();
    for op in ops {
        match judge_op(op, shown, hints, proposed, input, terms) {
            Ok(Verdict::Add(c)) => out.candidates.push(*c),
            Ok(Verdict::Archive(a)) => out.archive.extend(a),
            Ok(Verdict::Revise(k, c)) => out.revised.push((k, *c)),
            Ok(Verdict::Withdraw(ks)) => out.withdrawn.extend(ks),
            Err(reason) => out.rejected.push(rejected(op, shown, reason)),
        }
    }
    Ok(out)
}

enum Verdict {
    Add(Box<Candidate>),
    Archive(Vec<ArchiveRequest>),
    /// A note an earlier request of the dream proposed, rewritten or superseded.
    Revise(usize, Box<Candidate>),
    /// Notes an earlier request of the dream proposed, withdrawn.
    Withdraw(Vec<usize>),
}

fn str_of<'a>(op: &'a Value, key: &str) -> Option<&'a str> {
    op.get(key)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

fn list_of(op: &Value, key: &str) -> Vec<String> {
    match op.get(key) {
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|v| v.as_str().map(|s| s.trim().to_string()))
            .collect(),
        Some(Value::String(s)) if !s.trim().is_empty() => vec![s.trim().to_string()],
        _ => Vec::new(),
    }
}

fn judge_op(
    op: &Value,
    shown: &Shown,
    hints: &[Candidate],
    proposed: &[Candidate],
    input: &DreamInput,
    terms: &[&str],
) -> Result<Verdict, String> {
    let kind = str_of(op, "op").ok_or("no `op`")?;
    let reason = str_of(op, "reason").unwrap_or("").to_string();

    // The evidence: every cited id must be one the request showed.
    let cites = list_of(op, "evidence");
    let mut evidence = Vec::new();
    let mut from_tool = true;
    for id in &cites {
        let id = id.trim_matches(|c| c == '[' || c == ']');
        let Some(ev) = shown.events.get(id) else {
            return Err(format!("cites {id}, an event the request did not show"));
        };
        let session = &input.sessions[ev.session].session;
        evidence.push(Evidence {
            session_id: session.id.clone(),
            seq: ev.seq,
            quote: crate::extract::quote_of(&ev.text),
        });
        from_tool &= matches!(ev.kind, EventKind::ToolResult);
    }
    evidence.sort_by(|a, b| (&a.session_id, a.seq).cmp(&(&b.session_id, b.seq)));
    evidence.dedup_by(|a, b| a.session_id == b.session_id && a.seq == b.seq);

    // The entries it names: each one the request showed, none pinned or protected.
    let mut targets: Vec<&ShownEntry> = Vec::new();
    let mut notes: Vec<usize> = Vec::new();
    for id in list_of(op, "targets") {
        if let Some(&k) = shown.proposed.get(&id) {
            notes.push(k);
            continue;
        }
        let Some(e) = shown.entries.get(&id) else {
            return Err(format!("names {id}, an entry the request did not show"));
        };
        if e.fixed || input.store.policy.is_protected(&e.path) {
            return Err(format!(
                "would change {id} in {}, which is pinned or protected",
                e.path
            ));
        }
        targets.push(e);
    }

    // A hint accepted as it is; with a text of the model's own, that text (on the hint's
    // evidence too, in the hint's place unless the op says where).
    let mut from_hint: Option<&Candidate> = None;
    if kind == "add"
        && let Some(h) = str_of(op, "hint")
    {
        let Some(&k) = shown.hints.get(h) else {
            return Err(format!("accepts {h}, a hint the request did not show"));
        };
        let own = str_of(op, "text").filter(|t| *t != hints[k].text.trim());
        if own.is_none() {
            let mut c = hints[k].clone();
            c.reason = format!("{} (the model kept it)", c.reason);
            return Ok(Verdict::Add(Box::new(c)));
        }
        from_hint = Some(&hints[k]);
        for ev in &hints[k].evidence {
            if !evidence
                .iter()
                .any(|e| e.session_id == ev.session_id && e.seq == ev.seq)
            {
                evidence.push(ev.clone());
                from_tool = false;
            }
        }
    }

    if evidence.is_empty() {
        return Err("cites no event".to_string());
    }

    if !notes.is_empty() {
        if !targets.is_empty() {
            return Err("names both kept entries and proposed notes".to_string());
        }
        return match kind {
            "archive" => Ok(Verdict::Withdraw(notes)),
            "rewrite" | "supersede" => {
                let [k] = notes[..] else {
                    return Err(format!("a {kind} names more than one proposed note"));
                };
                let before = &proposed[k];
                let text = str_of(op, "text").ok_or("has no text")?.to_string();
                check_text(&text)?;
                if kind == "rewrite" {
                    let after = text::details(&text, terms);
                    let lost: Vec<String> = text::details(&before.text, terms)
                        .into_iter()
                        .filter(|d| !after.contains(d))
                        .map(|d| d.text)
                        .collect();
                    if !lost.is_empty() {
                        return Err(format!(
                            "drops details of the note it rewrites ({})",
                            lost.join(", ")
                        ));
                    }
                }
                let mut c = before.clone();
                c.text = text;
                for ev in evidence {
                    if !c
                        .evidence
                        .iter()
                        .any(|e| e.session_id == ev.session_id && e.seq == ev.seq)
                    {
                        c.evidence.push(ev);
                    }
                }
                c.reason = format!(
                    "model {kind} of its own note: {}",
                    if reason.is_empty() { "—" } else { &reason }
                );
                Ok(Verdict::Revise(k, Box::new(c)))
            }
            _ => Err(format!("a {kind} cannot name a proposed note")),
        };
    }

    if kind == "archive" {
        if targets.is_empty() {
            return Err("archives no entry".to_string());
        }
        let why = if reason.is_empty() {
            "obsolete, by the sessions".to_string()
        } else {
            reason
        };
        return Ok(Verdict::Archive(
            targets
                .iter()
                .map(|e| ArchiveRequest {
                    path: e.path.clone(),
                    text: e.text.clone(),
                    reason: format!("model: {why}"),
                    evidence: evidence.clone(),
                })
                .collect(),
        ));
    }

    let text = str_of(op, "text").ok_or("has no text")?.to_string();
    check_text(&text)?;

    let (path, section) = match kind {
        "add" => match (str_of(op, "path"), from_hint) {
            (Some(path), _) => {
                let section: Vec<String> = str_of(op, "section")
                    .map(|s| vec![s.to_string()])
                    .unwrap_or_default();
                (path.to_string(), section)
            }
            (None, Some(h)) => (h.path.clone(), h.section.clone()),
            (None, None) => return Err("has no path".to_string()),
        },
        "rewrite" | "supersede" | "merge" => {
            let first = targets
                .first()
                .ok_or_else(|| format!("a {kind} names no entry"))?;
            if kind == "merge" && targets.len() < 2 {
                return Err("a merge names fewer than two entries".to_string());
            }
            if kind != "merge" && targets.len() > 1 {
                return Err(format!("a {kind} names more than one entry"));
            }
            if targets.iter().any(|t| t.path != first.path) {
                return Err("a merge names entries of different memories".to_string());
            }
            if kind != "supersede" {
                let after = text::details(&text, terms);
                let lost: BTreeSet<String> = targets
                    .iter()
                    .flat_map(|t| text::details(&t.text, terms))
                    .filter(|d| !after.contains(d))
                    .map(|d| d.text)
                    .collect();
                if !lost.is_empty() {
                    return Err(format!(
                        "drops {} of what it {kind}s ({})",
                        if lost.len() == 1 {
                            "a detail"
                        } else {
                            "details"
                        },
                        lost.into_iter().collect::<Vec<_>>().join(", ")
                    ));
                }
            }
            (first.path.clone(), first.section.clone())
        }
        other => return Err(format!("{other:?} is not an operation")),
    };
    check_path(&path, input)?;

    let kind_of = match str_of(op, "kind") {
        None if from_hint.is_some() => from_hint.map_or(EntryKind::Fact, |h| h.kind),
        Some("instruction") | Some("preference") => EntryKind::Instruction,
        Some("correction") => EntryKind::Correction,
        Some("lesson") => EntryKind::Lesson,
        Some("glossary") => EntryKind::Glossary,
        _ => EntryKind::Fact,
    };
    let mut flags = Vec::new();
    if from_tool && crate::extract::reads_as_injection(&text) {
        flags.push(FLAG_POSSIBLE_INJECTION.to_string());
    }
    let at = evidence
        .iter()
        .filter_map(|ev| {
            let s = input
                .sessions
                .iter()
                .find(|s| s.session.id == ev.session_id)?;
            s.events
                .iter()
                .find(|e| e.seq == ev.seq)
                .and_then(|e| e.timestamp)
                .or(s.session.ended_at)
        })
        .max();
    Ok(Verdict::Add(Box::new(Candidate {
        kind: kind_of,
        text,
        path,
        section,
        evidence,
        at,
        from_tool_output: from_tool,
        flags,
        reason: format!(
            "model {kind}: {}",
            if reason.is_empty() { "—" } else { &reason }
        ),
        replaces: targets.iter().map(|t| t.text.clone()).collect(),
    })))
}

/// What a note's text must be: within a note's length, one note in its memory, no secret.
fn check_text(text: &str) -> Result<(), String> {
    if text.chars().count() > MAX_NOTE_CHARS {
        return Err(format!(
            "its text is {} characters, over the {MAX_NOTE_CHARS} of one note",
            text.chars().count()
        ));
    }
    if !stays_one_note(text) {
        return Err(
            "its text would not stay one note in a memory (an open code fence, or a block that \
             takes in the notes after it)"
                .to_string(),
        );
    }
    if text.contains("[REDACTED") {
        return Err("its text holds a redacted secret".to_string());
    }

    Ok(())
}

/// Where a note may go: a valid markdown memory path, not the index, not protected.
fn check_path(path: &str, input: &DreamInput) -> Result<(), String> {
    reverie_core::path::validate_path(path).map_err(|e| format!("its path: {e}"))?;
    if !path.ends_with(".md") {
        return Err(format!("{path} is not a markdown memory"));
    }
    if path == input.store.policy.budget.index_path {
        return Err(format!("{path} is the index, which the dream keeps itself"));
    }
    if input.store.policy.is_protected(path) {
        return Err(format!("{path} is protected"));
    }
    Ok(())
}

/// A refused operation as the changeset records it.
fn rejected(op: &Value, shown: &Shown, reason: String) -> RejectedOp {
    RejectedOp {
        op: str_of(op, "op").unwrap_or("?").chars().take(40).collect(),
        path: str_of(op, "path").map(|s| s.chars().take(300).collect()),
        text: str_of(op, "text").map(|s| s.chars().take(MAX_NOTE_CHARS).collect()),
        targets: list_of(op, "targets")
            .iter()
            .map(|id| {
                shown
                    .entries
                    .get(id)
                    .map_or_else(|| id.clone(), |e| e.text.clone())
            })
            .collect(),
        cites: list_of(op, "evidence")
            .into_iter()
            .take(20)
            .map(|s| s.chars().take(40).collect())
            .collect(),
        reason,
    }
}

/// Whether `text`, written as a list item with another note after it, reads back as that one
/// note followed by the other: an open code fence (or any block that runs on) would swallow
/// the notes that follow it in its memory.
fn stays_one_note(text: &str) -> bool {
    use reverie_core::entry::{BlockKind, Document, item_raw};
    const NEXT: &str = "the next note";
    let doc = Document::parse(&format!("{}{}", item_raw(text), item_raw(NEXT)));
    let entries = doc.entries();
    entries.len() == 2
        && entries[0].kind == BlockKind::Item
        && entries[1].body == NEXT
        && entries[0].section.is_empty()
}

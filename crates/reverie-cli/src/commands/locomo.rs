//! `reverie bench locomo`: does memory curated to a fraction of a conversation's size keep the
//! evidence retrievable?
//!
//! For each LoCoMo conversation (Maharana et al., ACL 2024) in a folder: its sessions become
//! sessions of a store of their own (each turn a user event with its speaker, the turn's
//! `dia_id` kept as the event's source id), one dream per 100 sessions curates them into a
//! memory of at most `--budget` of the raw transcript's size (the policy's byte budget, which
//! every dream enforces), and every answerable question (categories 1–4) is put to `recall`.
//! Retrieved entries map back to turns through their provenance; the evidence recall at k is
//! the share of a question's evidence turns among the turns of the top k results.
//!
//! Two baselines are measured in the same run, ranked by the very same BM25
//! (`reverie_core::search`): every raw turn with no budget, and the most recent turns that fit
//! the same budget. The curator reads only the conversation itself: never the annotations the
//! files carry beside it (`observation`, `session_summary`, `event_summary`), which encode
//! knowledge of the answers, and never the questions.
//!
//! The raw size is that of the transcript as plain text: one `speaker: text` line per turn.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context as _, Result, bail};
use reverie_core::dream::{
    DETERMINISTIC_MODEL, DreamInput, DreamStatus, ModelParam, NewDream, OutputBehavior,
};
use reverie_core::policy::{Budget, Policy};
use reverie_core::search::{self, RecallQuery};
use reverie_core::session::{Event, EventKind, SessionMeta, SourceFormat};
use reverie_core::{Error, Timestamp};
use reverie_store::{NewSession, NewStore, SessionBatch, Store};
use serde::Serialize;
use serde_json::Value;

use crate::cli::BenchLocomoArgs;
use crate::output::{emit, json};

/// The k of recall@k.
pub const KS: [usize; 3] = [5, 10, 20];
/// The methods compared, in report order.
pub const METHODS: [&str; 3] = ["curated", "raw", "recent"];
/// What the answerable categories are.
pub const CATEGORIES: [(u8, &str); 4] = [
    (1, "multi-hop"),
    (2, "temporal"),
    (3, "open-domain"),
    (4, "single-hop"),
];
/// Most sessions one dream takes.
const SESSIONS_PER_DREAM: usize = 100;

/// One turn of a conversation.
#[derive(Debug, Clone, PartialEq)]
pub struct Turn {
    pub dia_id: String,
    pub speaker: String,
    /// The turn's text, with the caption of an image it shared.
    pub text: String,
}

/// One session of a conversation.
#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    pub number: u32,
    pub at: Timestamp,
    pub turns: Vec<Turn>,
}

/// One question about a conversation.
#[derive(Debug, Clone, PartialEq)]
pub struct Question {
    pub question: String,
    pub evidence: Vec<String>,
    pub category: u8,
}

/// A LoCoMo conversation: what the curator reads (sessions) and what it is tested on.
#[derive(Debug, Clone, PartialEq)]
pub struct Conversation {
    pub name: String,
    pub sessions: Vec<Session>,
    pub questions: Vec<Question>,
}

impl Conversation {
    pub fn turns(&self) -> impl Iterator<Item = &Turn> {
        self.sessions.iter().flat_map(|s| s.turns.iter())
    }

    /// The bytes of the transcript as plain text, one `speaker: text` line per turn.
    pub fn raw_bytes(&self) -> u64 {
        self.turns().map(|t| line(t).len() as u64).sum()
    }
}

fn line(t: &Turn) -> String {
    format!("{}: {}\n", t.speaker, t.text)
}

/// `"1:56 pm on 8 May, 2023"` as a time (UTC).
pub fn parse_date(s: &str) -> Option<Timestamp> {
    let s = s.trim().to_lowercase();
    let (clock, date) = s.split_once(" on ")?;
    let clock = clock.trim();
    let (hm, half) = if let Some(hm) = clock.strip_suffix("am") {
        (hm.trim(), 0)
    } else if let Some(hm) = clock.strip_suffix("pm") {
        (hm.trim(), 12)
    } else {
        (clock, 0)
    };
    let (h, m) = hm.split_once(':')?;
    let (h, m): (u32, u32) = (h.trim().parse().ok()?, m.trim().parse().ok()?);
    if h > 12 || m > 59 {
        return None;
    }
    let hour = if half == 12 { h % 12 + 12 } else { h % 12 };
    let parts: Vec<&str> = date
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|p| !p.is_empty())
        .collect();
    let [day, month, year] = parts.as_slice() else {
        return None;
    };
    const MONTHS: [&str; 12] = [
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    ];
    let month = MONTHS
        .iter()
        .position(|name| name.starts_with(*month) && month.len() >= 3)?
        + 1;
    let (day, year): (u32, i32) = (day.parse().ok()?, year.parse().ok()?);
    Timestamp::parse(&format!(
        "{year:04}-{month:02}-{day:02}T{hour:02}:{m:02}:00Z"
    ))
}

fn invalid(file: &Path, what: impl std::fmt::Display) -> anyhow::Error {
    Error::invalid("data", format!("{}: {what}", file.display())).into()
}

/// The conversations of one LoCoMo file: a single sample or a list of them, each with its
/// conversation at the top level or under `conversation`.
pub fn parse_file(file: &Path) -> Result<Vec<Conversation>> {
    let bytes = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    let value: Value =
        serde_json::from_slice(&bytes).map_err(|e| invalid(file, format!("not JSON: {e}")))?;
    let stem = file
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "conversation".into());
    match &value {
        Value::Array(samples) => samples
            .iter()
            .enumerate()
            .map(|(i, s)| parse_sample(file, s, &format!("{stem}#{i}")))
            .collect(),
        Value::Object(_) => Ok(vec![parse_sample(file, &value, &stem)?]),
        _ => Err(invalid(file, "neither a LoCoMo sample nor a list of them")),
    }
}

fn parse_sample(file: &Path, sample: &Value, default_name: &str) -> Result<Conversation> {
    let name = sample
        .get("sample_id")
        .and_then(Value::as_str)
        .unwrap_or(default_name)
        .to_string();
    let conv = match sample.get("conversation") {
        Some(c) if c.is_object() => c,
        _ => sample,
    };
    let Some(fields) = conv.as_object() else {
        return Err(invalid(
            file,
            format!("{name}: the conversation is not an object"),
        ));
    };
    let mut sessions = Vec::new();
    for (key, turns) in fields {
        let Some(number) = key
            .strip_prefix("session_")
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        let Some(turns) = turns.as_array() else {
            continue;
        };
        let date_key = format!("session_{number}_date_time");
        let date = conv
            .get(&date_key)
            .and_then(Value::as_str)
            .ok_or_else(|| invalid(file, format!("{name}: {key} has no {date_key}")))?;
        let at = parse_date(date).ok_or_else(|| {
            invalid(
                file,
                format!("{name}: {date_key} {date:?} is not like \"1:56 pm on 8 May, 2023\""),
            )
        })?;
        let mut out = Vec::with_capacity(turns.len());
        for (i, t) in turns.iter().enumerate() {
            let field = |f: &str| {
                t.get(f)
                    .and_then(Value::as_str)
                    .ok_or_else(|| invalid(file, format!("{name}: {key}[{i}] has no string {f:?}")))
            };
            let mut text = field("text")?.to_string();
            if let Some(caption) = t.get("blip_caption").and_then(Value::as_str)
                && !caption.trim().is_empty()
            {
                text.push_str(&format!(" [shares {}]", caption.trim()));
            }
            out.push(Turn {
                dia_id: field("dia_id")?.to_string(),
                speaker: field("speaker")?.to_string(),
                text,
            });
        }
        sessions.push(Session {
            number,
            at,
            turns: out,
        });
    }
    if sessions.is_empty() {
        return Err(invalid(
            file,
            format!("{name}: no session_N lists of turns"),
        ));
    }
    sessions.sort_by_key(|s| s.number);
    let mut questions = Vec::new();
    for (i, q) in sample
        .get("qa")
        .and_then(Value::as_array)
        .ok_or_else(|| invalid(file, format!("{name}: no qa list")))?
        .iter()
        .enumerate()
    {
        let category = q
            .get("category")
            .and_then(Value::as_u64)
            .ok_or_else(|| invalid(file, format!("{name}: qa[{i}] has no category")))?;
        let question = q
            .get("question")
            .and_then(Value::as_str)
            .ok_or_else(|| invalid(file, format!("{name}: qa[{i}] has no question")))?;
        let evidence = q
            .get("evidence")
            .and_then(Value::as_array)
            .map(|e| {
                e.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
        questions.push(Question {
            question: question.to_string(),
            evidence,
            category: u8::try_from(category).unwrap_or(u8::MAX),
        });
    }
    Ok(Conversation {
        name,
        sessions,
        questions,
    })
}

/// Every LoCoMo file (`*.json`) of a folder, or the one file given, sorted by name.
pub fn load(data: &Path) -> Result<Vec<Conversation>> {
    let files: Vec<PathBuf> = if data.is_dir() {
        let mut files: Vec<PathBuf> = std::fs::read_dir(data)
            .with_context(|| format!("cannot read {}", data.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        files.sort();
        files
    } else if data.is_file() {
        vec![data.to_path_buf()]
    } else {
        return Err(Error::invalid(
            "data",
            format!("{} is neither a folder nor a file", data.display()),
        )
        .into());
    };
    if files.is_empty() {
        return Err(
            Error::invalid("data", format!("{} holds no .json files", data.display())).into(),
        );
    }
    let mut out = Vec::new();
    for f in files {
        out.extend(parse_file(&f)?);
    }
    Ok(out)
}

/// The turns each method retrieved for one question, best first, per result.
type Ranked = Vec<Vec<String>>;

/// Evidence recall at `k`: the share of `evidence` among the turns of the top `k` results.
pub fn recall_at(evidence: &BTreeSet<String>, ranked: &Ranked, k: usize) -> f64 {
    if evidence.is_empty() {
        return 0.0;
    }
    let got: BTreeSet<&String> = ranked.iter().take(k).flatten().collect();
    evidence.iter().filter(|e| got.contains(e)).count() as f64 / evidence.len() as f64
}

/// One question's outcome.
#[derive(Debug, Clone, Serialize)]
pub struct Scored {
    pub category: u8,
    /// Method → recall at each k of [`KS`].
    pub recall: BTreeMap<&'static str, [f64; 3]>,
    /// Method → bytes of the top 10 results' texts.
    pub served_bytes_at_10: BTreeMap<&'static str, u64>,
}

/// What happened to one conversation.
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    pub name: String,
    pub sessions: usize,
    pub turns: usize,
    pub raw_bytes: u64,
    pub budget_bytes: u64,
    pub memory_bytes: u64,
    pub entries: usize,
    pub dreams: usize,
    /// Questions of category 5 (adversarial: no answer in the conversation), not scored.
    pub adversarial: usize,
    /// Answerable questions without a single evidence id found among the turns, not scored.
    pub no_evidence: usize,
    /// Evidence ids naming no turn (typos in the data), left out of their questions.
    pub unknown_evidence_ids: usize,
    pub questions: Vec<Scored>,
}

/// Runs one conversation through a store of its own in `dir`.
pub async fn run_one(conv: &Conversation, fraction: f64, dir: &Path) -> Result<Outcome> {
    let url = dir.join(format!("locomo-{}.db", sanitize(&conv.name)));
    let s = reverie_store::open(&url.display().to_string()).await?;
    let store = s
        .create_store(NewStore {
            name: format!("locomo-{}", conv.name),
            description: "a LoCoMo conversation".into(),
            ..Default::default()
        })
        .await?
        .id;
    let raw_bytes = conv.raw_bytes();
    let budget_bytes = (raw_bytes as f64 * fraction).floor() as u64;
    let policy = Policy {
        budget: Budget {
            max_total_bytes: budget_bytes.max(1),
            max_memory_bytes: budget_bytes
                .clamp(1, reverie_core::content::MAX_CONTENT_BYTES as u64),
            ..Budget::default()
        },
        ..Policy::default()
    };
    s.set_policy(&store, &policy).await?;

    // The sessions, each turn a user event with its speaker; its dia_id is its source id.
    let mut turn_of: BTreeMap<(String, i64), String> = BTreeMap::new();
    let mut ids = Vec::new();
    for session in &conv.sessions {
        let id = ingest_session(&s, &store, conv, session, &mut turn_of).await?;
        ids.push(id);
    }
    let runner = reverie_dream::Runner::new(s.clone(), Arc::new(reverie_curate::Deterministic));
    let mut dreams = 0;
    for chunk in ids.chunks(SESSIONS_PER_DREAM) {
        let d = runner
            .create(NewDream {
                inputs: vec![
                    DreamInput::MemoryStore {
                        memory_store_id: store.clone(),
                    },
                    DreamInput::Sessions {
                        session_ids: chunk.to_vec(),
                    },
                ],
                model: ModelParam::Id(DETERMINISTIC_MODEL.into()),
                instructions: None,
                output_behavior: Some(OutputBehavior::UpdateExisting {
                    memory_store_id: store.clone(),
                }),
                review: Some(false),
            })
            .await?;
        let d = runner.run(&d.id).await?;
        if d.status != DreamStatus::Completed {
            bail!(
                "{}: the dream did not complete: {}",
                conv.name,
                d.error.map(|e| e.message).unwrap_or_default()
            );
        }
        dreams += 1;
    }
    let state = s.store_state(&store).await?;
    let memory_bytes: u64 = state
        .memories
        .iter()
        .map(|m| m.content.as_deref().map_or(0, str::len) as u64)
        .sum();
    if memory_bytes > budget_bytes {
        bail!(
            "{}: the memory holds {memory_bytes} bytes, over its budget of {budget_bytes}",
            conv.name
        );
    }
    let entries = state
        .entries
        .iter()
        .filter(|e| e.state == reverie_core::curation::EntryState::Live)
        .count();

    // The baselines: every raw turn, and the most recent turns within the same budget.
    let all: Vec<&Turn> = conv.turns().collect();
    let docs: Vec<String> = all
        .iter()
        .map(|t| format!("{}: {}", t.speaker, t.text))
        .collect();
    let raw_index = search::Bm25::new(&docs);
    let mut recent: Vec<usize> = Vec::new();
    let mut used = 0u64;
    for (i, t) in all.iter().enumerate().rev() {
        let b = line(t).len() as u64;
        if used + b > budget_bytes {
            break;
        }
        used += b;
        recent.push(i);
    }
    recent.reverse();
    let recent_docs: Vec<&str> = recent.iter().map(|&i| docs[i].as_str()).collect();
    let recent_index = search::Bm25::new(&recent_docs);

    let known: BTreeSet<&str> = all.iter().map(|t| t.dia_id.as_str()).collect();
    let mut outcome = Outcome {
        name: conv.name.clone(),
        sessions: conv.sessions.len(),
        turns: all.len(),
        raw_bytes,
        budget_bytes,
        memory_bytes,
        entries,
        dreams,
        adversarial: 0,
        no_evidence: 0,
        unknown_evidence_ids: 0,
        questions: Vec::new(),
    };
    let k_max = KS[KS.len() - 1];
    for q in &conv.questions {
        if !(1..=4).contains(&q.category) {
            outcome.adversarial += 1;
            continue;
        }
        let evidence: BTreeSet<String> = q
            .evidence
            .iter()
            .filter(|e| known.contains(e.as_str()))
            .cloned()
            .collect();
        outcome.unknown_evidence_ids += q
            .evidence
            .iter()
            .filter(|e| !known.contains(e.as_str()))
            .count();
        if evidence.is_empty() {
            outcome.no_evidence += 1;
            continue;
        }
        let mut query = RecallQuery::new(q.question.clone());
        query.limit = k_max;
        let found = s.recall(&store, &query).await?;
        let curated: Ranked = found
            .iter()
            .map(|r| {
                r.entry
                    .iter()
                    .flat_map(|e| e.provenance.iter())
                    .filter_map(|p| turn_of.get(&(p.session_id.clone(), p.seq)).cloned())
                    .collect()
            })
            .collect();
        let raw: Ranked = raw_index
            .search(&q.question, k_max)
            .into_iter()
            .map(|(i, _)| vec![all[i].dia_id.clone()])
            .collect();
        let rec: Ranked = recent_index
            .search(&q.question, k_max)
            .into_iter()
            .map(|(i, _)| vec![all[recent[i]].dia_id.clone()])
            .collect();
        let served = |texts: Vec<usize>| texts.into_iter().take(10).sum::<usize>() as u64;
        let mut scored = Scored {
            category: q.category,
            recall: BTreeMap::new(),
            served_bytes_at_10: BTreeMap::from([
                (
                    "curated",
                    served(found.iter().map(|r| r.text.len()).collect()),
                ),
                (
                    "raw",
                    served(
                        raw_index
                            .search(&q.question, 10)
                            .iter()
                            .map(|(i, _)| docs[*i].len())
                            .collect(),
                    ),
                ),
                (
                    "recent",
                    served(
                        recent_index
                            .search(&q.question, 10)
                            .iter()
                            .map(|(i, _)| recent_docs[*i].len())
                            .collect(),
                    ),
                ),
            ]),
        };
        for (method, ranked) in [("curated", &curated), ("raw", &raw), ("recent", &rec)] {
            let r = KS.map(|k| recall_at(&evidence, ranked, k));
            scored.recall.insert(method, r);
        }
        outcome.questions.push(scored);
    }
    drop(s);
    Ok(outcome)
}

fn sanitize(name: &str) -> String {
    name.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect()
}

async fn ingest_session(
    s: &Arc<dyn Store>,
    store: &str,
    conv: &Conversation,
    session: &Session,
    turn_of: &mut BTreeMap<(String, i64), String>,
) -> Result<String> {
    let created = s
        .create_session(NewSession {
            store_id: store.into(),
            source_format: SourceFormat::OpenaiChat,
            source_path: Some(format!("locomo/{}/session_{}", conv.name, session.number)),
            outcome: None,
        })
        .await?;
    let start = session.at.micros();
    let mut events = Vec::with_capacity(session.turns.len());
    let mut lines = Vec::with_capacity(session.turns.len());
    for (i, t) in session.turns.iter().enumerate() {
        let mut e = Event::new(EventKind::User).with_text(t.text.clone());
        e.seq = i as i64;
        e.line = Some(i as i64 + 1);
        e.speaker = Some(t.speaker.clone());
        e.uuid = Some(t.dia_id.clone());
        e.timestamp = Some(Timestamp(start + i as i64 * 1_000_000));
        events.push(e);
        lines.push((
            i as i64 + 1,
            serde_json::json!({"role": "user", "name": t.speaker, "content": t.text}).to_string(),
        ));
        turn_of.insert((created.id.clone(), i as i64), t.dia_id.clone());
    }
    let n = events.len() as i64;
    s.append_to_session(
        &created.id,
        &SessionBatch {
            expect_consumed: 0,
            expect_seq: 0,
            lines: lines.into(),
            events,
            consumed_bytes: n,
            consumed_hash: None,
            next_line: n + 1,
            meta: SessionMeta {
                started_at: Some(session.at),
                ended_at: Some(Timestamp(start + n * 1_000_000)),
                ..SessionMeta::default()
            },
        },
    )
    .await?;
    Ok(created.id)
}

/// Means over questions: method → `[recall@5, @10, @20]`.
fn means<'a>(qs: impl Iterator<Item = &'a Scored> + Clone) -> BTreeMap<&'static str, [f64; 3]> {
    let n = qs.clone().count().max(1) as f64;
    METHODS
        .iter()
        .map(|&m| {
            let mut sum = [0.0; 3];
            for q in qs.clone() {
                for (k, v) in q.recall[m].iter().enumerate() {
                    sum[k] += v;
                }
            }
            (m, sum.map(|s| s / n))
        })
        .collect()
}

fn served_means<'a>(qs: impl Iterator<Item = &'a Scored> + Clone) -> BTreeMap<&'static str, f64> {
    let n = qs.clone().count().max(1) as f64;
    METHODS
        .iter()
        .map(|&m| {
            let total: u64 = qs.clone().map(|q| q.served_bytes_at_10[m]).sum();
            (m, total as f64 / n)
        })
        .collect()
}

fn at_k(values: &[f64; 3]) -> Value {
    serde_json::json!({"5": values[0], "10": values[1], "20": values[2]})
}

/// The report of a run, as JSON.
pub fn report(fraction: f64, outcomes: &[Outcome]) -> Value {
    let all = || outcomes.iter().flat_map(|o| o.questions.iter());
    let raw: u64 = outcomes.iter().map(|o| o.raw_bytes).sum();
    let memory: u64 = outcomes.iter().map(|o| o.memory_bytes).sum();
    let recall = |m: BTreeMap<&'static str, [f64; 3]>| -> Value {
        m.into_iter()
            .map(|(k, v)| (k.to_string(), at_k(&v)))
            .collect()
    };
    let by_category: serde_json::Map<String, Value> = CATEGORIES
        .iter()
        .map(|&(c, name)| {
            let qs = || all().filter(move |q| q.category == c);
            (
                c.to_string(),
                serde_json::json!({
                    "name": name,
                    "questions": qs().count(),
                    "recall": recall(means(qs())),
                }),
            )
        })
        .collect();
    serde_json::json!({
        "budget_fraction": fraction,
        "overall": {
            "conversations": outcomes.len(),
            "questions": all().count(),
            "raw_bytes": raw,
            "memory_bytes": memory,
            "memory_fraction": memory as f64 / raw.max(1) as f64,
            "recall": recall(means(all())),
            "by_category": by_category,
            "served_bytes_at_10": served_means(all()),
            "adversarial_skipped": outcomes.iter().map(|o| o.adversarial).sum::<usize>(),
            "no_evidence_skipped": outcomes.iter().map(|o| o.no_evidence).sum::<usize>(),
            "unknown_evidence_ids": outcomes.iter().map(|o| o.unknown_evidence_ids).sum::<usize>(),
        },
        "conversations": outcomes.iter().map(|o| serde_json::json!({
            "name": o.name,
            "sessions": o.sessions,
            "turns": o.turns,
            "questions": o.questions.len(),
            "raw_bytes": o.raw_bytes,
            "budget_bytes": o.budget_bytes,
            "memory_bytes": o.memory_bytes,
            "memory_fraction": o.memory_bytes as f64 / o.raw_bytes.max(1) as f64,
            "entries": o.entries,
            "dreams": o.dreams,
            "recall": recall(means(o.questions.iter())),
            "served_bytes_at_10": served_means(o.questions.iter()),
        })).collect::<Vec<_>>(),
    })
}

fn print_report(r: &Value) {
    let o = &r["overall"];
    emit(&format!(
        "LoCoMo evidence recall: {} conversations, {} answerable questions; memory at {:.1}% of the raw size ({} of {} bytes; budget {:.0}%)",
        o["conversations"],
        o["questions"],
        o["memory_fraction"].as_f64().unwrap_or(0.0) * 100.0,
        o["memory_bytes"],
        o["raw_bytes"],
        r["budget_fraction"].as_f64().unwrap_or(0.0) * 100.0
    ));
    emit("");
    emit("method                      R@5     R@10    R@20    bytes served @10");
    let label = |m: &str| match m {
        "curated" => "curated memory (recall)",
        "raw" => "raw turns, no budget (BM25)",
        _ => "most recent turns in budget",
    };
    for m in METHODS {
        let v = &o["recall"][m];
        emit(&format!(
            "{:<27} {:.3}   {:.3}   {:.3}   {:.0}",
            label(m),
            v["5"].as_f64().unwrap_or(0.0),
            v["10"].as_f64().unwrap_or(0.0),
            v["20"].as_f64().unwrap_or(0.0),
            o["served_bytes_at_10"][m].as_f64().unwrap_or(0.0)
        ));
    }
    emit("");
    emit("recall@10 by category         questions  curated   raw     recent");
    for (c, name) in CATEGORIES {
        let v = &o["by_category"][c.to_string()];
        emit(&format!(
            "{c} {:<27} {:>9}  {:.3}     {:.3}   {:.3}",
            name,
            v["questions"].as_u64().unwrap_or(0),
            v["recall"]["curated"]["10"].as_f64().unwrap_or(0.0),
            v["recall"]["raw"]["10"].as_f64().unwrap_or(0.0),
            v["recall"]["recent"]["10"].as_f64().unwrap_or(0.0)
        ));
    }
    emit("");
    emit("recall@10 by conversation     memory   curated   raw     recent");
    for c in r["conversations"].as_array().into_iter().flatten() {
        emit(&format!(
            "{:<29} {:>5.1}%   {:.3}     {:.3}   {:.3}",
            c["name"].as_str().unwrap_or(""),
            c["memory_fraction"].as_f64().unwrap_or(0.0) * 100.0,
            c["recall"]["curated"]["10"].as_f64().unwrap_or(0.0),
            c["recall"]["raw"]["10"].as_f64().unwrap_or(0.0),
            c["recall"]["recent"]["10"].as_f64().unwrap_or(0.0)
        ));
    }
    emit("");
    emit(&format!(
        "not scored: {} adversarial questions (category 5), {} without a known evidence turn; {} evidence ids name no turn",
        o["adversarial_skipped"], o["no_evidence_skipped"], o["unknown_evidence_ids"]
    ));
}

pub async fn run(a: BenchLocomoArgs, json_out: bool) -> Result<i32> {
    if !(a.budget > 0.0 && a.budget <= 1.0) {
        return Err(Error::invalid(
            "budget",
            format!("is a fraction of the raw size, in (0, 1]; got {}", a.budget),
        )
        .into());
    }
    let conversations = load(&a.data)?;
    let dir = std::env::temp_dir().join(format!("reverie-bench-locomo-{}", std::process::id()));
    std::fs::create_dir_all(&dir)
        .with_context(|| format!("cannot make the scratch folder {}", dir.display()))?;
    let result = run_all(&conversations, a.budget, &dir, json_out).await;
    let _ = std::fs::remove_dir_all(&dir);
    let outcomes = result?;
    let r = report(a.budget, &outcomes);
    if json_out {
        json(&r);
    } else {
        print_report(&r);
    }
    Ok(0)
}

async fn run_all(
    conversations: &[Conversation],
    fraction: f64,
    dir: &Path,
    json_out: bool,
) -> Result<Vec<Outcome>> {
    let mut outcomes = Vec::new();
    for conv in conversations {
        if !json_out {
            eprintln!(
                "reverie: {} ({} sessions, {} turns)…",
                conv.name,
                conv.sessions.len(),
                conv.turns().count()
            );
        }
        outcomes.push(run_one(conv, fraction, dir).await?);
    }
    Ok(outcomes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_as_locomo_writes_them() {
        assert_eq!(
            parse_date("1:56 pm on 8 May, 2023"),
            Timestamp::parse("2023-05-08T13:56:00Z")
        );
        assert_eq!(
            parse_date("12:09 am on 13 September, 2023"),
            Timestamp::parse("2023-09-13T00:09:00Z")
        );
        assert_eq!(
            parse_date("12:30 pm on 1 Jan, 2024"),
            Timestamp::parse("2024-01-01T12:30:00Z")
        );
        assert_eq!(parse_date("yesterday"), None);
        assert_eq!(parse_date("13:00 pm on 8 May, 2023"), None);
        assert_eq!(parse_date("1:56 pm on 8 Mai, 2023"), None);
    }

    #[test]
    fn recall_at_k_counts_evidence_among_the_top_results() {
        let ev: BTreeSet<String> = ["D1:3", "D2:1"].map(String::from).into();
        let ranked: Ranked = vec![
            vec!["D9:9".into()],
            vec!["D1:3".into(), "D1:4".into()],
            vec![],
            vec!["D2:1".into()],
        ];
        assert_eq!(recall_at(&ev, &ranked, 1), 0.0);
        assert_eq!(recall_at(&ev, &ranked, 2), 0.5);
        assert_eq!(recall_at(&ev, &ranked, 4), 1.0);
        assert_eq!(recall_at(&BTreeSet::new(), &ranked, 4), 0.0);
    }

    fn write(dir: &Path, name: &str, v: &Value) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, v.to_string()).unwrap();
        p
    }

    fn sample() -> Value {
        serde_json::json!({
            "speaker_a": "Ann", "speaker_b": "Bo",
            "session_2_date_time": "9:00 am on 2 June, 2023",
            "session_2": [{"speaker": "Bo", "dia_id": "D2:1", "text": "Later."}],
            "session_1_date_time": "1:56 pm on 8 May, 2023",
            "session_1": [
                {"speaker": "Ann", "dia_id": "D1:1", "text": "I adopted a cat.", "blip_caption": "a photo of a cat"},
                {"speaker": "Bo", "dia_id": "D1:2", "text": "Nice!"}
            ],
            "session_1_summary": "Ann adopted a cat (must not be read)",
            "session_1_observation": {"Ann": [["Ann has a cat", "D1:1"]]},
            "qa": [
                {"question": "What did Ann adopt?", "answer": "a cat", "evidence": ["D1:1"], "category": 4},
                {"question": "Trick?", "adversarial_answer": "x", "evidence": [], "category": 5}
            ]
        })
    }

    #[test]
    fn both_layouts_parse_and_annotations_are_not_read() {
        let dir = tempfile::tempdir().unwrap();
        let flat = parse_file(&write(dir.path(), "flat.json", &sample())).unwrap();
        assert_eq!(flat.len(), 1);
        let c = &flat[0];
        assert_eq!(c.name, "flat");
        assert_eq!(
            c.sessions.iter().map(|s| s.number).collect::<Vec<_>>(),
            [1, 2]
        );
        assert_eq!(
            c.sessions[0].turns[0].text,
            "I adopted a cat. [shares a photo of a cat]"
        );
        assert_eq!(c.questions.len(), 2);
        assert!(!format!("{c:?}").contains("must not be read"));
        assert_eq!(
            c.raw_bytes(),
            ("Ann: I adopted a cat. [shares a photo of a cat]\n".len()
                + "Bo: Nice!\n".len()
                + "Bo: Later.\n".len()) as u64
        );
        // The original layout: a list of samples with the conversation nested.
        let mut s = sample();
        let qa = s.as_object_mut().unwrap().remove("qa").unwrap();
        let nested = serde_json::json!([{"sample_id": "conv-x", "conversation": s, "qa": qa}]);
        let list = parse_file(&write(dir.path(), "list.json", &nested)).unwrap();
        assert_eq!(list[0].name, "conv-x");
        assert_eq!(list[0].sessions, c.sessions);
        assert_eq!(list[0].questions, c.questions);
    }

    #[test]
    fn bad_files_are_refused_by_name() {
        let dir = tempfile::tempdir().unwrap();
        let check = |name: &str, v: Value, needle: &str| {
            let p = write(dir.path(), name, &v);
            let err = parse_file(&p).unwrap_err().to_string();
            assert!(err.contains(name) && err.contains(needle), "{err}");
        };
        check("num.json", serde_json::json!(42), "neither");
        let mut s = sample();
        s["session_1_date_time"] = "someday".into();
        check("date.json", s, "session_1_date_time");
        let mut s = sample();
        s["session_1"][0].as_object_mut().unwrap().remove("dia_id");
        check("turn.json", s, "session_1[0]");
        let mut s = sample();
        s.as_object_mut().unwrap().remove("qa");
        check("qa.json", s, "no qa");
        check("empty.json", serde_json::json!({"qa": []}), "no session_N");
        std::fs::write(dir.path().join("junk.json"), "{not json").unwrap();
        let err = parse_file(&dir.path().join("junk.json"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("junk.json") && err.contains("not JSON"),
            "{err}"
        );
        let err = load(&dir.path().join("missing")).unwrap_err().to_string();
        assert!(err.contains("neither a folder nor a file"), "{err}");
    }
}

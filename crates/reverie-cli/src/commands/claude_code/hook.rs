//! `reverie claude-code hook`: what Claude Code runs at its hook events, with the event's JSON
//! on standard input (`session_id`, `transcript_path`, `cwd`, `hook_event_name`, and the
//! event's own fields).
//!
//! - `SessionEnd`, `PreCompact`: the transcript is ingested into the project's store
//!   (idempotent: a transcript that grew appends its new lines), the store dreamed if its
//!   schedule calls for it, and its memory exported into the project's Claude Code memory
//!   folder (what Claude Code wrote there read back first) — in the background, so that the
//!   hook returns at once: it starts `claude-code hook --background` and leaves a marker under
//!   `$XDG_STATE_HOME/reverie/pending/` that the background removes when done. Work that dies
//!   is not lost: the transcript stays, and `claude-code sync` brings it in (`status` shows
//!   markers left behind).
//! - `StopFailure`: the same, and the session's outcome recorded as a failure with the error.
//! - `SessionStart`: the store's context for the session (the index, pinned entries, the most
//!   useful notes, within a token budget) added to the session's context.
//! - `UserPromptSubmit`: the glossary entries and pinned notes the prompt names, so that a
//!   correction is in front of the agent on every prompt that needs it; nothing otherwise.
//! - `PostToolUseFailure`: nothing beyond the transcript, which records the failure itself.
//!
//! A hook never fails the user's session: whatever goes wrong is written to the hook log
//! (`$XDG_STATE_HOME/reverie/claude-code.log`, else `~/.local/state/reverie/…`) — the event
//! and the error, never the payload, which holds the user's prompt — and the hook exits 0.

use std::io::{Read, Write as _};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context as _, Result, bail};
use reverie_core::curation::{EntryKind, EntryMeta, EntryState};
use reverie_core::session::{Outcome, OutcomeStatus};
use reverie_store::serving::{self, ContextRequest};
use reverie_store::{NewStore, Store};
use serde_json::Value;

use super::project::{IDENTITY_KEY, Project, identify};

/// The most bytes of hook input read: a payload is a few kilobytes; a prompt may be long.
const MAX_INPUT: u64 = 4 << 20;

/// Tokens of context a session starts with.
const START_BUDGET: usize = 2_000;

/// How long the session's start waits to record what it served.
const SERVE_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

/// Most notes one prompt is given.
const PROMPT_NOTES: usize = 8;

pub async fn run(database: Option<&str>, background: Option<&Path>) -> Result<i32> {
    let mut input = Vec::new();
    let read = std::io::stdin().take(MAX_INPUT).read_to_end(&mut input);
    let event = serde_json::from_slice::<Value>(&input).ok();
    let name = event
        .as_ref()
        .and_then(|e| e.get("hook_event_name"))
        .and_then(Value::as_str)
        .unwrap_or("?")
        .to_string();
    let outcome = match (read, event) {
        (Err(e), _) => Err(anyhow::anyhow!("cannot read the hook's input: {e}")),
        (Ok(_), None) => Err(anyhow::anyhow!(
            "the hook's input is not JSON ({} bytes)",
            input.len()
        )),
        (Ok(_), Some(event)) => match background {
            Some(marker) => {
                let r = after_session(database, &name, &event).await.map(|()| None);
                let _ = std::fs::remove_file(marker);
                r
            }
            None => handle(database, &name, &event, &input).await,
        },
    };
    match outcome {
        Ok(Some(context)) => {
            let out = serde_json::json!({
                "hookSpecificOutput": {"hookEventName": name, "additionalContext": context}
            });
            println!("{out}");
        }
        Ok(None) => {}
        Err(e) => log(&name, &format!("{e:#}")),
    }
    Ok(0)
}

/// Appends one line to the hook log; a log that cannot be written is given up on silently
/// (standard error would reach the user's session).
fn log(event: &str, message: &str) {
    let Some(path) = log_path() else { return };
    if let Some(dir) = path.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    let line = format!(
        "{} {event}: {}\n",
        reverie_core::Timestamp::now().to_rfc3339(),
        message.replace('\n', " ")
    );
    if let Ok(mut f) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
    {
        let _ = f.write_all(line.as_bytes());
    }
}

/// Where the hook log goes.
pub fn log_path() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("XDG_STATE_HOME").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(dir).join("reverie/claude-code.log"));
    }
    let home = std::env::var_os("HOME").filter(|h| !h.is_empty())?;
    Some(PathBuf::from(home).join(".local/state/reverie/claude-code.log"))
}

fn field<'a>(event: &'a Value, key: &str) -> Option<&'a str> {
    event
        .get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

pub async fn open(database: Option<&str>) -> Result<Arc<dyn Store>> {
    let url = match database {
        Some(url) if !url.is_empty() => url.to_string(),
        _ => crate::context::default_database()?.display().to_string(),
    };
    if !url.contains("://")
        && let Some(dir) = Path::new(&url).parent()
        && !dir.as_os_str().is_empty()
    {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    Ok(reverie_store::open(&url).await?)
}

/// The project's store, if it has one yet.
async fn find(s: &dyn Store, p: &Project) -> Result<Option<String>> {
    Ok(s.stores_named(&p.store_name)
        .await?
        .into_iter()
        .find(|st| st.metadata.get(IDENTITY_KEY) == Some(&p.identity))
        .map(|st| st.id))
}

/// How a project's store is dreamed until its policy says otherwise: when a session no dream
/// has read is there, at most once an hour (`reverie claude-code sync`, `reverie worker`).
pub fn default_schedule() -> reverie_core::policy::Schedule {
    reverie_core::policy::Schedule {
        after_sessions: Some(1),
        cron: None,
        min_interval_secs: 3_600,
    }
}

/// The project's store, made on its first session.
pub async fn find_or_create(s: &dyn Store, p: &Project) -> Result<String> {
    if let Some(id) = find(s, p).await? {
        return Ok(id);
    }
    let st = s
        .create_store(NewStore {
            name: p.store_name.clone(),
            description: format!("Claude Code: {} ({})", p.label, p.root.display()),
            metadata: [(IDENTITY_KEY.to_string(), p.identity.clone())].into(),
            ..NewStore::default()
        })
        .await?;
    let mut policy = s.get_policy(&st.id).await?;
    policy.schedule = default_schedule();
    s.set_policy(&st.id, &policy).await?;
    Ok(st.id)
}

/// The project an event is about: its `cwd`.
fn project_of(event: &Value) -> Result<Project> {
    let cwd = field(event, "cwd").context("the event has no `cwd`")?;
    if let Some(problem) = &super::project::rules().1 {
        log(field(event, "hook_event_name").unwrap_or("?"), problem);
    }
    Ok(identify(Path::new(cwd)))
}

/// Where the markers of background work in progress are.
pub fn pending_dir() -> Option<PathBuf> {
    Some(log_path()?.parent()?.join("pending"))
}

/// Starts the long half of the event in a process of its own (its own process group, so that
/// Claude Code ending the hook's does not end it), the event on its standard input.
fn spawn_background(database: Option<&str>, name: &str, event: &Value, input: &[u8]) -> Result<()> {
    let path = field(event, "transcript_path").context("the event has no `transcript_path`")?;
    if !Path::new(path).is_file() {
        bail!("the transcript {path} is not there");
    }
    field(event, "cwd").context("the event has no `cwd`")?;
    let dir = pending_dir().context("no folder for the hook's state: HOME is not set")?;
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let marker = dir.join(format!(
        "{}-{}.json",
        reverie_core::Timestamp::now().micros(),
        std::process::id()
    ));
    // What the work is about, never the payload (a prompt may be in it).
    let about =
        serde_json::json!({"event": name, "transcript_path": path, "cwd": field(event, "cwd")});
    std::fs::write(&marker, about.to_string())
        .with_context(|| format!("cannot write {}", marker.display()))?;
    let exe = std::env::current_exe().context("cannot find reverie's own executable")?;
    let mut cmd = std::process::Command::new(exe);
    if let Some(db) = database.filter(|d| !d.is_empty()) {
        cmd.args(["--database", db]);
    }
    cmd.args(["claude-code", "hook", "--background"])
        .arg(&marker)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            let _ = std::fs::remove_file(&marker);
            return Err(e).context("cannot start the background ingest");
        }
    };
    // A few kilobytes: the pipe takes them without waiting for the reader.
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(input)
            .context("cannot hand the event to the background ingest")?;
    }
    Ok(())
}

/// The long half of `SessionEnd`, `PreCompact` and `StopFailure`: the transcript in, a dream
/// if the store's schedule calls for one, the memory folder read back and exported.
async fn after_session(database: Option<&str>, name: &str, event: &Value) -> Result<()> {
    let outcome = (name == "StopFailure").then(|| {
        let error = ["error", "error_message", "message", "reason"]
            .iter()
            .find_map(|k| field(event, k))
            .unwrap_or("the turn ended on an API error");
        Outcome {
            status: OutcomeStatus::Failure,
            score: None,
            note: Some(error.chars().take(400).collect()),
        }
    });
    let (s, store, project) = ingest(database, event, outcome).await?;
    let curators = super::super::model::Curators::load(true)?;
    let runner = reverie_dream::Runner::with_curators(s.clone(), Arc::new(curators));
    reverie_dream::schedule::dream_if_due(&runner, &store).await?;
    let exported = export(s.as_ref(), &store, &project, event).await;
    // The next session's start finds its context ready (not counted as served).
    start_context(s.as_ref(), &store, false).await?;
    exported
}

/// The store's memory into the project's Claude Code memory folder, read back first.
async fn export(s: &dyn Store, store: &str, project: &Project, event: &Value) -> Result<()> {
    let claude_dir = super::sync::claude_dir()?;
    let folder = super::export::memory_folder(&claude_dir, &project.root)
        .map_err(|why| anyhow::anyhow!("no export: {why}"))?;
    // The project's transcripts, to find the session that wrote a file in the folder.
    let transcript = PathBuf::from(field(event, "transcript_path").unwrap_or_default());
    let siblings: Vec<PathBuf> = transcript
        .parent()
        .and_then(|d| std::fs::read_dir(d).ok())
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
        .collect();
    super::export::sync_folder(s, store, &folder, &siblings, &super::folder_actor()).await?;
    Ok(())
}

/// What the event does; the context to add to the session, if any.
async fn handle(
    database: Option<&str>,
    name: &str,
    event: &Value,
    input: &[u8],
) -> Result<Option<String>> {
    match name {
        "SessionEnd" | "PreCompact" | "StopFailure" => {
            spawn_background(database, name, event, input)?;
            Ok(None)
        }
        "SessionStart" => session_start(database, event).await,
        "UserPromptSubmit" => prompt_notes(database, event).await,
        "PostToolUseFailure" => Ok(None),
        other => bail!("reverie has nothing to do at {other:?}"),
    }
}

/// The event's transcript into its project's store: the store, its id and the project.
async fn ingest(
    database: Option<&str>,
    event: &Value,
    outcome: Option<Outcome>,
) -> Result<(Arc<dyn Store>, String, Project)> {
    let path = field(event, "transcript_path").context("the event has no `transcript_path`")?;
    if !Path::new(path).is_file() {
        bail!("the transcript {path} is not there");
    }
    let project = project_of(event)?;
    let s = open(database).await?;
    let store = find_or_create(s.as_ref(), &project).await?;
    let options = reverie_ingest::Options {
        outcome,
        ..reverie_ingest::Options::default()
    };
    let report = reverie_ingest::Ingest::new(s.clone(), store.clone(), options)
        .run(&[path.to_string()], &reverie_ingest::Quiet)
        .await?;
    if let Some(e) = report.files.iter().find_map(|f| f.error.as_deref()) {
        bail!("ingesting {path}: {e}");
    }
    Ok((s, store, project))
}

async fn session_start(database: Option<&str>, event: &Value) -> Result<Option<String>> {
    let project = project_of(event)?;
    let s = open(database).await?;
    let Some(store) = find(s.as_ref(), &project).await? else {
        return Ok(None);
    };
    let text = start_context(s.as_ref(), &store, true).await?;
    let text = text.trim();
    Ok((!text.is_empty()).then(|| {
        format!(
            "reverie — what this project's memory holds (store {}):\n\n{text}",
            project.store_name
        )
    }))
}

/// A session's starting context as last rendered, kept while what it depends on is unchanged:
/// the store's revision, its pinned entries and its index path (the order of the most useful
/// entries follows their counters at the time it was rendered). Rendering loads the
/// tokenizer and reads every entry; the session's start should not wait for either.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct CachedContext {
    key: String,
    text: String,
    served: Vec<serving::ServedEntry>,
}

/// Where cached contexts are kept: `$XDG_CACHE_HOME/reverie/claude-code`, else
/// `~/.cache/reverie/claude-code`.
fn cache_dir() -> Option<PathBuf> {
    let base = match std::env::var_os("XDG_CACHE_HOME").filter(|d| !d.is_empty()) {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(std::env::var_os("HOME").filter(|h| !h.is_empty())?).join(".cache"),
    };
    Some(base.join("reverie/claude-code"))
}

/// What a store's cached context depends on.
async fn context_key(s: &dyn Store, store: &str) -> Result<String> {
    let st = s.get_store(store).await?;
    let policy = s.get_policy(store).await?;
    let pins = s.pinned_entry_ids(store).await?;
    let key = format!(
        "{store}\0{}\0{}\0{START_BUDGET}\0{}",
        st.revision,
        policy.budget.index_path,
        pins.join(",")
    );
    Ok(blake3::hash(key.as_bytes()).to_hex().to_string())
}

/// The store's context for a session's start, from the cache when it still holds; recorded as
/// served when `serve`.
pub async fn start_context(s: &dyn Store, store: &str, serve: bool) -> Result<String> {
    let key = context_key(s, store).await?;
    let file = cache_dir().map(|d| d.join(format!("{store}.json")));
    let cached = file
        .as_ref()
        .and_then(|f| std::fs::read(f).ok())
        .and_then(|b| serde_json::from_slice::<CachedContext>(&b).ok())
        .filter(|c| c.key == key);
    if let Some(c) = cached {
        if serve {
            // Recording what was served writes; a writer holding the database (a long
            // dream's commit) must not hold the session's start.
            let recorded =
                tokio::time::timeout(SERVE_WAIT, serving::serve_again(s, store, &c.served, None))
                    .await;
            match recorded {
                Ok(r) => r?,
                Err(_) => log(
                    "SessionStart",
                    "the database is busy with a writer: the context was served without \
                     recording it",
                ),
            }
        }
        return Ok(c.text);
    }
    let req = ContextRequest {
        budget: START_BUDGET,
        serve,
        ..ContextRequest::default()
    };
    let (rendered, served) =
        match tokio::time::timeout(SERVE_WAIT, serving::context_served(s, store, &req)).await {
            Ok(r) => r?,
            Err(_) => {
                log(
                    "SessionStart",
                    "the database is busy with a writer: the context was served without \
                     recording it",
                );
                let req = ContextRequest {
                    serve: false,
                    ..req
                };
                serving::context_served(s, store, &req).await?
            }
        };
    // Kept when every entry it gives has its id (one without metadata gets it when served).
    let served: Option<Vec<serving::ServedEntry>> = served
        .iter()
        .map(|r| {
            r.entry.as_ref().map(|e| serving::ServedEntry {
                id: e.id.clone(),
                path: r.path.clone(),
                text: r.text.clone(),
            })
        })
        .collect();
    if let (Some(served), Some(file)) = (served, file) {
        let c = CachedContext {
            key,
            text: rendered.text.clone(),
            served,
        };
        // A cache that cannot be written only costs the next session's start some time.
        let _ = write_private(&file, &serde_json::to_vec(&c)?);
    }
    Ok(rendered.text)
}

/// `bytes` into `path` (made readable by the user alone), by a rename.
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt as _;
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let tmp = dir.join(format!(".{}.tmp", std::process::id()));
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .truncate(true)
        .write(true)
        .mode(0o600)
        .open(&tmp)?;
    f.write_all(bytes)?;
    drop(f);
    std::fs::rename(&tmp, path)
}

/// A glossary entry's term: `**TERM**: …`, `` `TERM`: … `` or `TERM: …`.
fn term_of(text: &str) -> Option<String> {
    let t = text.trim();
    let term = if let Some(rest) = t.strip_prefix("**") {
        rest.split("**").next()?
    } else if let Some(rest) = t.strip_prefix('`') {
        rest.split('`').next()?
    } else {
        t.split(':').next()?
    };
    let term = term.trim().trim_end_matches(':').trim();
    (!term.is_empty() && term.chars().count() <= 60).then(|| term.to_string())
}

/// Whether `needle` occurs in `hay` (both lowercased) as a whole word.
fn names(hay: &str, needle: &str) -> bool {
    if needle.is_empty() {
        return false;
    }
    let word = |c: char| c.is_alphanumeric() || c == '_';
    hay.match_indices(needle).any(|(at, _)| {
        let before = hay[..at].chars().next_back();
        let after = hay[at + needle.len()..].chars().next();
        !before.is_some_and(word) && !after.is_some_and(word)
    })
}

/// The terms a pinned note is about: its code spans, paths and identifiers (what a prompt
/// naming the same thing would contain), not its common words.
fn pinned_terms(text: &str) -> Vec<String> {
    reverie_curate::text::details(text, &[])
        .into_iter()
        .map(|d| d.text.to_lowercase())
        .filter(|t| t.chars().count() >= 3 && !t.chars().all(|c| c.is_ascii_digit()))
        .collect()
}

/// The notes a prompt names.
pub fn notes_for(prompt: &str, entries: &[EntryMeta]) -> Vec<String> {
    let hay = prompt.to_lowercase();
    let mut out = Vec::new();
    for e in entries {
        if e.state != EntryState::Live {
            continue;
        }
        // A glossary entry: a dream's, or a line of a glossary memory written by hand.
        let glossary = e.kind == EntryKind::Glossary || e.path.ends_with("/glossary.md");
        let hit = if glossary {
            term_of(&e.text).is_some_and(|t| names(&hay, &t.to_lowercase()))
        } else {
            e.pinned && pinned_terms(&e.text).iter().any(|t| names(&hay, t))
        };
        if hit && !out.contains(&e.text) {
            out.push(e.text.clone());
        }
        if out.len() == PROMPT_NOTES {
            break;
        }
    }
    out
}

async fn prompt_notes(database: Option<&str>, event: &Value) -> Result<Option<String>> {
    let Some(prompt) = field(event, "prompt") else {
        return Ok(None);
    };
    let project = project_of(event)?;
    let s = open(database).await?;
    let Some(store) = find(s.as_ref(), &project).await? else {
        return Ok(None);
    };
    let entries = s.list_entries(&store, Some(EntryState::Live)).await?;
    let notes = notes_for(prompt, &entries);
    if notes.is_empty() {
        return Ok(None);
    }
    let mut text = String::from("reverie — notes on what this prompt names:\n");
    for n in notes {
        text.push_str(&format!("- {}\n", n.replace('\n', "\n  ")));
    }
    Ok(Some(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(kind: EntryKind, text: &str, pinned: bool) -> EntryMeta {
        EntryMeta {
            id: "ent_x".into(),
            state: EntryState::Live,
            kind,
            path: "/glossary.md".into(),
            section: vec![],
            text: text.into(),
            provenance: vec![],
            served: 0,
            helpful: 0,
            harmful: 0,
            first_seen: None,
            last_seen: None,
            superseded_by: None,
            pinned,
            dream_id: None,
        }
    }

    #[test]
    fn a_prompt_gets_the_glossary_and_pinned_notes_it_names_and_nothing_else() {
        let entries = vec![
            entry(
                EntryKind::Glossary,
                "**TLH**: short for tallyho, the staging cluster",
                false,
            ),
            entry(
                EntryKind::Glossary,
                "`bead`: an issue in the `bd` tracker",
                false,
            ),
            EntryMeta {
                path: "/rules.md".into(),
                ..entry(
                    EntryKind::Manual,
                    "Never push to `main`; open a PR from `feature/*`.",
                    true,
                )
            },
            EntryMeta {
                path: "/deploy.md".into(),
                ..entry(
                    EntryKind::Manual,
                    "The deploy script is `./scripts/ship.sh`.",
                    false,
                )
            },
        ];
        let got = notes_for("can you restart TLH and then close the bead?", &entries);
        assert_eq!(got.len(), 2, "{got:?}");
        assert!(
            got[0].contains("tallyho") && got[1].contains("bd"),
            "{got:?}"
        );
        // A word that only contains a term is not the term.
        assert!(notes_for("the athlete beaded it", &entries).is_empty());
        // A pinned note by what it names; an unpinned one never.
        let got = notes_for("push this to main please", &entries);
        assert_eq!(got.len(), 1, "{got:?}");
        assert!(got[0].contains("Never push"), "{got:?}");
        assert!(notes_for("run ship.sh", &entries).is_empty());
        assert!(notes_for("", &entries).is_empty());
    }

    #[test]
    fn terms_are_read_from_the_usual_shapes() {
        assert_eq!(
            term_of("**TLH**: short for tallyho").as_deref(),
            Some("TLH")
        );
        assert_eq!(term_of("`bead`: an issue").as_deref(), Some("bead"));
        assert_eq!(term_of("LGTM: looks good").as_deref(), Some("LGTM"));
        assert_eq!(term_of("   ").as_deref(), None);
    }
}

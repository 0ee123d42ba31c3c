//! What a dream reads, loaded by the caller before any stage runs: the store (memories, entry
//! metadata, policy) at one revision, the sessions with their events, and the dream's settings.

use reverie_core::curation::EntryMeta;
use reverie_core::policy::Policy;
use reverie_core::session::{Event, EventKind, Session};
use reverie_core::timestamp::Timestamp;

/// One memory of the store, with its content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemoryText {
    pub id: String,
    pub path: String,
    pub content: String,
}

/// The store as the dream reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct StoreSnapshot {
    pub store_id: String,
    pub revision: i64,
    /// Every live memory, sorted by path.
    pub memories: Vec<MemoryText>,
    /// Every entry's metadata the store keeps, in any state, sorted by id.
    pub entries: Vec<EntryMeta>,
    pub policy: Policy,
}

/// One session with its events, in order.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionInput {
    pub session: Session,
    pub events: Vec<Event>,
}

/// An entry served to an agent during a session (recorded by recall and context).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Serving {
    pub session_id: String,
    pub entry_id: String,
}

/// Everything a dream reads.
#[derive(Debug, Clone, PartialEq)]
pub struct DreamInput {
    pub dream_id: String,
    pub store: StoreSnapshot,
    /// Sorted by start time, then id.
    pub sessions: Vec<SessionInput>,
    pub servings: Vec<Serving>,
    /// Steering from the dream's creator; the deterministic curator reads none of it.
    pub instructions: Option<String>,
}

impl DreamInput {
    /// The dream's notion of "now": the newest time any input carries. Never the wall clock, so
    /// that the same inputs give the same output.
    pub fn now(&self) -> Timestamp {
        let sessions = self
            .sessions
            .iter()
            .filter_map(|s| s.session.ended_at.or(s.session.started_at));
        let entries = self.store.entries.iter().filter_map(|e| e.last_seen);
        sessions.chain(entries).max().unwrap_or(Timestamp(0))
    }
}

/// The longest text of a tool result the dream holds: its head and tail are kept, what is
/// between is cut (errors say what they are at the start and how they ended at the end).
pub const TOOL_RESULT_HELD: usize = 16 * 1024;
/// The longest text of a file read that no curator reads as a file (source, logs): enough to
/// see what it is and whether it reads as an instruction.
pub const FILE_READ_HELD: usize = 2 * 1024;
/// The longest text of any other event, and of a string inside a tool call's input.
pub const TEXT_HELD: usize = 64 * 1024;

/// What of a session's events a dream holds: the events as the curators read them, decided
/// event by event as a session loads (one per session, fed its events in order), so what a
/// dream holds grows with what it can use, not with the sessions' bytes.
///
/// Events no curator reads (`other`, `compaction`: the source's own bookkeeping) are
/// dropped, thinking keeps its place but not its text, ids that only link lines go, long
/// texts keep their head and tail, and a file read keeps its whole text (up to
/// [`TOOL_RESULT_HELD`]) only when it is a file the curator reads: a manifest or a memory.
#[derive(Debug, Default)]
pub struct Condenser {
    /// Tool calls whose result is a file read no curator reads, by id.
    plain_reads: std::collections::HashSet<String>,
}

impl Condenser {
    pub fn new() -> Self {
        Self::default()
    }

    /// The event as held, or `None` when nothing of it is read.
    pub fn condense(&mut self, mut e: Event) -> Option<Event> {
        match e.kind {
            EventKind::Other | EventKind::Compaction => return None,
            EventKind::Thinking => e.text = None,
            EventKind::ToolUse => {
                if let (Some(id), Some(file)) = (&e.tool_use_id, read_file(&e))
                    && !crate::extract::read_as_file(file)
                {
                    self.plain_reads.insert(id.clone());
                }
            }
            EventKind::ToolResult => {
                let plain = e
                    .tool_use_id
                    .as_ref()
                    .is_some_and(|id| self.plain_reads.remove(id));
                let max = if plain {
                    FILE_READ_HELD
                } else {
                    TOOL_RESULT_HELD
                };
                e.text = e.text.map(|t| cut(t, max));
            }
            _ => e.text = e.text.map(|t| cut(t, TEXT_HELD)),
        }
        e.uuid = None;
        e.parent_uuid = None;
        if let Some(v) = &mut e.tool_input {
            cut_strings(v);
        }
        Some(e)
    }
}

/// The file a `Read` call reads.
fn read_file(e: &Event) -> Option<&str> {
    if !matches!(e.tool_name.as_deref(), Some("Read" | "read_file")) {
        return None;
    }
    let input = e.tool_input.as_ref()?;
    input
        .get("file_path")
        .or(input.get("path"))
        .and_then(serde_json::Value::as_str)
}

/// `text` if it fits in `max` bytes, else its first three quarters and last quarter of `max`
/// with a line saying how much was cut between them.
pub fn cut(text: String, max: usize) -> String {
    if text.len() <= max {
        return text;
    }
    let head = floor_boundary(&text, max / 4 * 3);
    let tail = ceil_boundary(&text, text.len() - max / 4);
    format!(
        "{}\n[… {} bytes cut …]\n{}",
        &text[..head],
        tail - head,
        &text[tail..]
    )
}

fn floor_boundary(s: &str, mut i: usize) -> usize {
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn ceil_boundary(s: &str, mut i: usize) -> usize {
    while !s.is_char_boundary(i) {
        i += 1;
    }
    i
}

fn cut_strings(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::String(s) if s.len() > TEXT_HELD => {
            *s = cut(std::mem::take(s), TEXT_HELD);
        }
        serde_json::Value::Array(a) => a.iter_mut().for_each(cut_strings),
        serde_json::Value::Object(o) => o.values_mut().for_each(cut_strings),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_texts_keep_head_and_tail_on_character_boundaries() {
        let text = format!("error: first{}last line", "語".repeat(20_000));
        let out = cut(text.clone(), TOOL_RESULT_HELD);
        assert!(out.len() < TOOL_RESULT_HELD + 40, "{}", out.len());
        assert!(out.starts_with("error: first"));
        assert!(out.ends_with("last line"));
        assert!(out.contains(" bytes cut …]"));
        assert_eq!(cut("short".into(), 10), "short");
    }

    #[test]
    fn bookkeeping_is_dropped_and_thinking_keeps_its_place() {
        let mut c = Condenser::new();
        let mut condense = |e| c.condense(e);
        assert!(condense(Event::new(EventKind::Other).with_text("x")).is_none());
        let t = condense(Event::new(EventKind::Thinking).with_text("hmm")).unwrap();
        assert_eq!((t.kind, t.text), (EventKind::Thinking, None));
        let mut call = Event::new(EventKind::ToolUse);
        call.tool_input = Some(serde_json::json!({"content": "a".repeat(TEXT_HELD * 2), "n": 1}));
        let held = condense(call).unwrap().tool_input.unwrap();
        assert!(held["content"].as_str().unwrap().len() < TEXT_HELD + 40);
        assert_eq!(held["n"], 1);
        let user = condense(Event::new(EventKind::User).with_text("remember this")).unwrap();
        assert_eq!(user.text.as_deref(), Some("remember this"));
    }
}

#[cfg(test)]
mod reads {
    use super::*;

    fn read(id: &str, file: &str) -> Event {
        let mut e = Event::new(EventKind::ToolUse);
        e.tool_name = Some("Read".into());
        e.tool_use_id = Some(id.into());
        e.tool_input = Some(serde_json::json!({ "file_path": file }));
        e
    }

    fn result(id: &str, text: &str) -> Event {
        let mut e = Event::new(EventKind::ToolResult).with_text(text);
        e.tool_use_id = Some(id.into());
        e
    }

    #[test]
    fn a_file_read_is_held_whole_only_when_a_curator_reads_it_as_a_file() {
        let big = "x".repeat(10_000);
        let mut c = Condenser::new();
        for (id, file, held_whole) in [
            ("1", "/repo/src/main.rs", false),
            ("2", "/repo/package.json", true),
            ("3", "/home/u/.claude/projects/p/memory/MEMORY.md", true),
        ] {
            c.condense(read(id, file)).unwrap();
            let text = c.condense(result(id, &big)).unwrap().text.unwrap();
            assert_eq!(text == big, held_whole, "{file}");
        }
        // Any other tool's output keeps up to TOOL_RESULT_HELD.
        let text = c.condense(result("9", &big)).unwrap().text.unwrap();
        assert_eq!(text, big);
    }
}

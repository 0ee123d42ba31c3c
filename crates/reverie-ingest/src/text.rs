//! Plain text transcripts, the last resort: lines that start with a speaker (`User:`,
//! `Human:`, `Assistant:`, `AI:`, `Claude:`, …) open a turn; the lines after it belong to it.
//! Text without any speaker line is not a transcript.

use reverie_core::session::{Event, EventKind};

use crate::normalize::text_event;

fn speaker(line: &str) -> Option<(EventKind, &str)> {
    let (head, rest) = line.split_once(':')?;
    let head = head
        .trim()
        .trim_start_matches(['#', '*', '>', ' '])
        .trim_end_matches('*')
        .trim();
    let kind = match head.to_ascii_lowercase().as_str() {
        "user" | "human" | "me" | "you" | "q" | "question" => EventKind::User,
        "assistant" | "ai" | "claude" | "gpt" | "chatgpt" | "bot" | "agent" | "model" | "a"
        | "answer" => EventKind::Assistant,
        _ => return None,
    };
    Some((kind, rest.trim_start_matches('*').trim_start()))
}

/// The turns of a text, or `None` when no line names a speaker.
pub fn parse(text: &str) -> Option<Vec<Event>> {
    let mut events: Vec<(i64, EventKind, String)> = Vec::new();
    let mut preamble: Vec<&str> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        match speaker(line) {
            Some((kind, rest)) => events.push((i as i64 + 1, kind, rest.to_string())),
            None => match events.last_mut() {
                Some((_, _, body)) => {
                    body.push('\n');
                    body.push_str(line);
                }
                None => preamble.push(line),
            },
        }
    }
    if events.is_empty() {
        return None;
    }
    let mut out = Vec::with_capacity(events.len() + 1);
    let preamble = preamble.join("\n");
    if !preamble.trim().is_empty() {
        let mut e = crate::normalize::other("preamble");
        e.text = Some(crate::normalize::clean_text(preamble));
        e.line = Some(1);
        out.push(e);
    }
    for (line, kind, body) in events {
        let mut e = text_event(kind, body.trim_end().to_string());
        e.line = Some(line);
        out.push(e);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn turns_by_speaker() {
        let ev = parse(
            "notes from a chat\nUser: hi there\nplease help\n\n**Assistant:** sure\nAI: again\n",
        )
        .unwrap();
        let got: Vec<(EventKind, &str)> = ev
            .iter()
            .map(|e| (e.kind, e.text.as_deref().unwrap()))
            .collect();
        assert_eq!(
            got,
            [
                (EventKind::Other, "notes from a chat"),
                (EventKind::User, "hi there\nplease help"),
                (EventKind::Assistant, "sure"),
                (EventKind::Assistant, "again"),
            ]
        );
        assert_eq!(ev[1].line, Some(2));
    }

    #[test]
    fn prose_is_not_a_transcript() {
        assert!(parse("fn main() {\n    println!(\"hi\");\n}\n").is_none());
        assert!(parse("Note: this is a README.\nIt has a colon.").is_none());
    }
}

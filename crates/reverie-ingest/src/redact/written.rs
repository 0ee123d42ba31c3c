//! The secrets policy of what people and agents write directly — memory content through
//! `reverie put`, the memory routes and the memory tool, `remember` — as opposed to transcripts,
//! which are redacted: a write holding a secret is refused whole, with the kind and where, and
//! nothing is written. (Redacting it would store a sentence with a hole in it.)
//!
//! Written text is checked as a reader would see it: with the invisible characters that can
//! split a token without showing (zero-width space, joiner, word joiner, BOM, soft hyphen)
//! taken out, and with a token that a single space or tab splits in two read joined
//! (`ghp_abc def…`): a split that no scanner would see but any reader would undo.

use reverie_core::Error;

use super::{SecretKind, redactor};

/// Characters that can sit inside a token without showing.
const INVISIBLE: [char; 6] = [
    '\u{200b}', '\u{200c}', '\u{200d}', '\u{2060}', '\u{feff}', '\u{00ad}',
];

/// The first secret in `text` as written, if any: its kind and its character range in `text`.
pub fn secret_in(text: &str) -> Option<(SecretKind, std::ops::Range<usize>)> {
    // Characters of the visible text, each with its character index in `text`.
    let visible: Vec<(usize, char)> = text
        .chars()
        .enumerate()
        .filter(|(_, c)| !INVISIBLE.contains(c))
        .collect();
    let plain: String = visible.iter().map(|(_, c)| *c).collect();
    let at = |byte: usize| plain[..byte].chars().count();
    if let Some(f) = redactor().find(&plain).first() {
        let (a, b) = (at(f.range.start), at(f.range.end).max(1));
        return Some((f.kind, visible[a].0..visible[b - 1].0 + 1));
    }
    // A token split by one space or tab: each pair of neighbouring words that look like
    // token parts, read joined.
    let token = |w: &str| {
        w.len() >= 4
            && w.chars().all(|c| {
                c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '+' | '/' | '=')
            })
    };
    // Words with their byte offsets in `plain`.
    let mut words: Vec<(usize, &str)> = Vec::new();
    let mut start = None;
    for (i, c) in plain.char_indices().chain([(plain.len(), ' ')]) {
        match (c.is_whitespace(), start) {
            (true, Some(s)) => {
                words.push((s, &plain[s..i]));
                start = None;
            }
            (false, None) => start = Some(i),
            _ => {}
        }
    }
    for pair in words.windows(2) {
        let ((sa, a), (sb, b)) = (pair[0], pair[1]);
        // Split by exactly one space or tab, not by a line break.
        if !matches!(&plain[sa + a.len()..sb], " " | "\t") {
            continue;
        }
        // Sentence punctuation after the token is not part of it.
        let b = b.trim_end_matches([',', ';', ':', ')', '!', '?', '.']);
        if !token(a) || !token(b) {
            continue;
        }
        let joined = format!("{a}{b}");
        if let Some(f) = redactor().find(&joined).first()
            && f.range.start < a.len()
            && f.range.end > a.len()
        {
            let (s, e) = (at(sa + f.range.start), at(sb + f.range.end - a.len()));
            return Some((f.kind, visible[s].0..visible[e - 1].0 + 1));
        }
    }
    None
}

/// The memory tool's answer to a command that would write a secret (`create`'s `file_text`,
/// `str_replace`'s `new_str`, `insert`'s `insert_text`), or `None`: the tool refuses it as it
/// refuses any bad command, with an error result, and writes nothing.
pub fn memory_tool_secret(command: &reverie_core::memtool::Command) -> Option<String> {
    use reverie_core::memtool::Command;
    let (field, text) = match command {
        Command::Create { file_text, .. } => ("file_text", file_text),
        Command::StrReplace { new_str, .. } => ("new_str", new_str),
        Command::Insert { insert_text, .. } => ("insert_text", insert_text),
        _ => return None,
    };
    refuse_secret(field, text).err().map(|e| e.to_string())
}

/// [`refuse_secret`] for memory content written into a store, unless the store's policy
/// allows secrets there ([`reverie_core::policy::Secrets`]); the policy is read only when the
/// text holds one.
pub async fn refuse_secret_in_memory(
    store: &dyn reverie_store::Store,
    store_id: &str,
    field: &'static str,
    text: &str,
) -> Result<(), Error> {
    match refuse_secret(field, text) {
        Ok(()) => Ok(()),
        Err(e) => match store.get_policy(store_id).await?.secrets {
            reverie_core::policy::Secrets::Allow => Ok(()),
            reverie_core::policy::Secrets::Refuse => Err(with_policy_hint(e)),
        },
    }
}

/// One memory tool command against a store, a write that would hold a secret refused under
/// the store's policy ([`memory_tool_secret`]) as the tool refuses any bad command: an error
/// outcome, nothing written. What every agent-facing memory tool (the CLI's, MCP's) runs.
pub async fn run_memory_tool(
    store: &dyn reverie_store::Store,
    store_id: &str,
    command: &reverie_core::memtool::Command,
    actor: &reverie_core::Actor,
) -> Result<reverie_store::ToolOutcome, Error> {
    if let Some(refusal) = memory_tool_secret(command)
        && store.get_policy(store_id).await?.secrets == reverie_core::policy::Secrets::Refuse
    {
        return Ok(reverie_store::ToolOutcome {
            is_error: true,
            content: format!("{refusal}{POLICY_HINT}"),
            revision: None,
        });
    }
    store.memory_tool(store_id, command, actor).await
}

/// How a store that is meant to hold secrets says so.
const POLICY_HINT: &str =
    " (a store meant to hold secrets says so in its policy: `reverie policy set --secrets allow`)";

fn with_policy_hint(e: Error) -> Error {
    match e {
        Error::Invalid { field, reason } => Error::Invalid {
            field,
            reason: format!("{reason}{POLICY_HINT}"),
        },
        e => e,
    }
}

/// [`refuse_secret`] over a store's own fields: its name, description and metadata values
/// (a secret there is served with every listing of the store).
pub fn refuse_secret_in_store<'a>(
    name: Option<&str>,
    description: Option<&str>,
    metadata: impl IntoIterator<Item = &'a str>,
) -> Result<(), Error> {
    if let Some(n) = name {
        refuse_secret("name", n)?;
    }
    if let Some(d) = description {
        refuse_secret("description", d)?;
    }
    metadata
        .into_iter()
        .try_for_each(|v| refuse_secret("metadata", v))
}

/// Refuses `text` written into `field` when it holds a secret, naming the kind and where.
pub fn refuse_secret(field: &'static str, text: &str) -> Result<(), Error> {
    match secret_in(text) {
        None => Ok(()),
        Some((kind, range)) => Err(Error::invalid(
            field,
            format!(
                "holds what looks like a secret ({}) at characters {}..{}; nothing was written — \
                 write it without the secret (keep secrets in a secret manager and note where)",
                kind.as_str(),
                range.start,
                range.end
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "sk-ant-api03-Zq3vT9xLm2Rk8Wb4Yp7Nc1Hd6Fj0Gs5Ae3Ui9Ko2Xw4Tb8Vn6Ym1Qp7Rs3Lk";

    #[test]
    fn secrets_are_found_as_a_reader_sees_them() {
        assert!(secret_in(&format!("the key is {KEY}")).is_some());
        // Split by invisible characters.
        let hidden: String = KEY.chars().flat_map(|c| [c, '\u{200b}']).collect();
        let (_, r) = secret_in(&format!("the key is {hidden}")).unwrap();
        assert_eq!(r.start, "the key is ".chars().count());
        // Split by a space.
        let (half_a, half_b) = KEY.split_at(30);
        assert!(secret_in(&format!("the key is {half_a} {half_b}, keep it")).is_some());
        // Ordinary notes are left alone, spaces and all.
        for ok in [
            "The staging database listens on port 6543.",
            "Run `cargo test --workspace -- --nocapture` before pushing.",
            "Use base64 -d and jq .data to read the secret; never paste it here.",
            "deploy with ./scripts/deploy.sh staging-v2 main",
        ] {
            assert!(secret_in(ok).is_none(), "{ok}");
        }
        let e = refuse_secret("content", &format!("- key: {KEY}")).unwrap_err();
        assert!(
            e.to_string().contains("content") && e.to_string().contains("secret"),
            "{e}"
        );
    }
}

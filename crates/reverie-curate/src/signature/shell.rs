//! Shell commands as agents write them, cut into the simple commands that ran: quotes,
//! `$(…)`, heredocs (`git commit -m "$(cat <<'EOF' … EOF)"`), `cd X &&` prefixes, environment
//! assignments and wrappers (`sudo`, `npx`, `doppler run --`) understood well enough to say
//! which program ran, with which subcommand, in which folder.

/// One simple command of a shell command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Simple {
    /// Its words, quotes removed, heredoc bodies dropped (`-m "…"` keeps only the flag).
    pub words: Vec<String>,
    /// The folder a `cd` before it (in the same command line) moved to.
    pub cwd: Option<String>,
}

impl Simple {
    /// The words without leading environment assignments and plain wrappers.
    pub fn program_words(&self) -> &[String] {
        let mut w = self.words.as_slice();
        loop {
            match w.first().map(String::as_str) {
                Some(t) if is_assignment(t) => w = &w[1..],
                Some(
                    "sudo" | "time" | "nohup" | "exec" | "command" | "env" | "then" | "do" | "else"
                    | "{" | "!",
                ) => w = &w[1..],
                _ => return w,
            }
        }
    }

    /// The program's name (the last part of its path).
    pub fn program(&self) -> Option<&str> {
        self.program_words().first().map(|p| base(p))
    }

    /// What it runs, as a key: the program and its subcommands (`git push`, `bun run verify`,
    /// `npx turbo run typecheck`, `gh run view`, `python -m pytest`, `mix phx.server`).
    pub fn key(&self) -> Option<String> {
        key_of(self.program_words())
    }

    /// The command a wrapper runs after `--` (`doppler run -- bun run test`), as its own
    /// simple command.
    pub fn inner(&self) -> Option<Simple> {
        let w = self.program_words();
        let program = base(w.first()?);
        if !WRAPPERS.contains(&program) {
            return None;
        }
        let at = w.iter().position(|t| t == "--")?;
        (at + 1 < w.len()).then(|| Simple {
            words: w[at + 1..].to_vec(),
            cwd: self.cwd.clone(),
        })
    }

    /// The words joined back into one line, each quoted when it needs it.
    pub fn display(&self) -> String {
        self.words
            .iter()
            .map(|w| display_word(w))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// Programs that run the command given after `--`.
const WRAPPERS: &[&str] = &[
    "doppler",
    "dotenv",
    "op",
    "aws-vault",
    "infisical",
    "direnv",
];

/// Programs that run a tool named by their next word.
const RUNNERS: &[&str] = &["npx", "bunx", "pnpx", "uvx", "dlx"];

/// Programs whose subcommands have subcommands of their own.
const TWO_LEVEL: &[&str] = &[
    "gh",
    "docker",
    "kubectl",
    "aws",
    "gcloud",
    "az",
    "heroku",
    "fly",
    "flyctl",
    "wrangler",
    "supabase",
    "vercel",
    "terraform",
    "helm",
    "systemctl",
];

/// Subcommands that take the name of what they run (`npm run test`, `turbo run build`).
const RUN_LIKE: &[&str] = &["run", "exec", "x", "dlx", "compose", "workspace", "script"];

fn is_assignment(t: &str) -> bool {
    let Some((name, _)) = t.split_once('=') else {
        return false;
    };
    !name.is_empty()
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !name.starts_with(|c: char| c.is_ascii_digit())
}

/// The last part of a program's path.
pub fn base(program: &str) -> &str {
    program.rsplit('/').next().unwrap_or(program)
}

/// A word that can be a subcommand: lowercase letters, digits, `-`, `:`, `.` and `_`, not a
/// path, not a file with an extension, not a number.
fn is_sub(w: &str) -> bool {
    let Some(first) = w.chars().next() else {
        return false;
    };
    first.is_ascii_lowercase()
        && w.len() <= 40
        && w.chars().all(|c| {
            c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | ':' | '.' | '_')
        })
        && !has_file_extension(w)
}

/// Whether a word names a file by its extension (`build.js`, `mix.exs`).
pub fn has_file_extension(w: &str) -> bool {
    const EXT: &[&str] = &[
        "js", "mjs", "cjs", "ts", "tsx", "jsx", "json", "py", "rs", "go", "rb", "ex", "exs", "md",
        "txt", "toml", "yaml", "yml", "sh", "css", "html", "sql", "lock", "jsonl", "log", "c", "h",
        "cpp", "java", "kt", "swift", "lua", "php", "xml", "csv", "env", "cfg", "ini",
    ];
    w.rsplit_once('.')
        .is_some_and(|(stem, ext)| !stem.is_empty() && EXT.contains(&ext))
}

fn key_of(w: &[String]) -> Option<String> {
    let first = w.first()?;
    let program = base(first);
    if program.is_empty() {
        return None;
    }
    let mut parts = vec![program.to_string()];
    let mut rest = &w[1..];
    // `npx turbo …`, `python -m pytest`, `uv run pytest`: the tool is the next word.
    if RUNNERS.contains(&program) {
        if let Some(tool) = rest.iter().find(|t| !t.starts_with('-')) {
            parts.push(base(tool).to_string());
            let at = rest.iter().position(|t| t == tool).unwrap_or(0);
            rest = &rest[at + 1..];
        }
    } else if program.starts_with("python")
        && rest.first().is_some_and(|t| t == "-m")
        && let Some(m) = rest.get(1)
    {
        parts.push("-m".into());
        parts.push(m.clone());
        rest = &rest[2..];
    }
    let tool = parts.last().cloned().unwrap_or_default();
    let Some(sub) = rest.first().filter(|s| is_sub(s)) else {
        return Some(parts.join(" "));
    };
    parts.push(sub.clone());
    let deeper = TWO_LEVEL.contains(&tool.as_str()) || RUN_LIKE.contains(&sub.as_str());
    // A second level never holds digits: `gh run view`, not an id (`bd show spotter-dov.1`).
    if deeper
        && let Some(sub2) = rest
            .get(1)
            .filter(|s| is_sub(s) && !s.contains(|c: char| c.is_ascii_digit()))
    {
        parts.push(sub2.clone());
    }
    Some(parts.join(" "))
}

fn display_word(w: &str) -> String {
    if w.is_empty() {
        return "\"\"".into();
    }
    if w.chars()
        .any(|c| c.is_whitespace() || matches!(c, '|' | '&' | ';' | '<' | '>'))
    {
        format!("\"{}\"", w.replace('"', "\\\""))
    } else {
        w.to_string()
    }
}

/// Removes heredoc bodies: the lines after a `<<WORD` (or `<<'WORD'`, `<<-WORD`) up to the
/// line that is `WORD`.
fn drop_heredocs(cmd: &str) -> String {
    let mut out = String::with_capacity(cmd.len());
    let mut until: Option<String> = None;
    for line in cmd.split('\n') {
        if let Some(end) = &until {
            if line.trim() == end {
                until = None;
            }
            continue;
        }
        out.push_str(line);
        out.push('\n');
        if let Some(at) = line.find("<<") {
            let rest = line[at + 2..].trim_start_matches(['-', '~']).trim_start();
            let word: String = rest
                .trim_start_matches(['\'', '"'])
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if !word.is_empty() {
                until = Some(word);
            }
        }
    }
    out.pop();
    out
}

/// A command line cut into its simple commands, in order.
pub fn parse(cmd: &str) -> Vec<Simple> {
    let cmd = drop_heredocs(cmd);
    let mut segments: Vec<Vec<String>> = Vec::new();
    let mut words: Vec<String> = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut quote: Option<char> = None;
    // Depth of `$(`/`(` nesting: a substitution is part of the word it is in.
    let mut depth = 0usize;
    let chars: Vec<char> = cmd.chars().collect();
    let mut i = 0;
    let flush = |word: &mut String, in_word: &mut bool, words: &mut Vec<String>| {
        if *in_word {
            words.push(std::mem::take(word));
            *in_word = false;
        }
    };
    while i < chars.len() {
        let c = chars[i];
        match quote {
            Some(q) => {
                if c == q {
                    quote = None;
                } else if c == '\\' && q == '"' && i + 1 < chars.len() {
                    i += 1;
                    word.push(chars[i]);
                } else {
                    if q == '"' && c == '$' && chars.get(i + 1) == Some(&'(') {
                        depth += 1;
                    } else if q == '"' && c == ')' && depth > 0 {
                        depth -= 1;
                    }
                    word.push(c);
                }
            }
            None => match c {
                '\'' | '"' => {
                    quote = Some(c);
                    in_word = true;
                }
                '\\' if i + 1 < chars.len() => {
                    i += 1;
                    if chars[i] != '\n' {
                        word.push(chars[i]);
                        in_word = true;
                    }
                }
                '(' => {
                    depth += 1;
                    word.push(c);
                    in_word = true;
                }
                ')' if depth > 0 => {
                    depth -= 1;
                    word.push(c);
                }
                c if depth > 0 => {
                    word.push(c);
                    in_word = true;
                }
                ' ' | '\t' => flush(&mut word, &mut in_word, &mut words),
                '\n' | ';' => {
                    flush(&mut word, &mut in_word, &mut words);
                    segments.push(std::mem::take(&mut words));
                }
                '&' | '|' => {
                    // `2>&1`, `&>`, `|&` stay redirections.
                    if c == '&' && (word.ends_with('>') || chars.get(i + 1) == Some(&'>')) {
                        word.push(c);
                        in_word = true;
                    } else {
                        flush(&mut word, &mut in_word, &mut words);
                        segments.push(std::mem::take(&mut words));
                        if chars.get(i + 1) == Some(&c) {
                            i += 1;
                        }
                    }
                }
                c => {
                    word.push(c);
                    in_word = true;
                }
            },
        }
        i += 1;
    }
    flush(&mut word, &mut in_word, &mut words);
    segments.push(words);
    let mut out = Vec::new();
    let mut cwd: Option<String> = None;
    for seg in segments {
        let words: Vec<String> = seg.into_iter().filter(|w| !is_redirection(w)).collect();
        if words.is_empty()
            || matches!(
                words[0].as_str(),
                "done" | "fi" | "}" | "esac" | "for" | "while" | "if" | "case"
            )
        {
            continue;
        }
        let words: Vec<String> = words
            .into_iter()
            .skip_while(|w| matches!(w.as_str(), "do" | "then" | "else" | "{" | "!" | "time"))
            .collect();
        if words.is_empty() {
            continue;
        }
        if words[0] == "cd" {
            cwd = words.get(1).cloned();
            continue;
        }
        out.push(Simple {
            words: words.into_iter().map(|w| tidy_substitution(&w)).collect(),
            cwd: cwd.clone(),
        });
    }
    out
}

/// `2>&1`, `>/dev/null`, `2>/dev/null`: redirections that say nothing of what ran.
fn is_redirection(w: &str) -> bool {
    let w = w.trim_start_matches(|c: char| c.is_ascii_digit());
    w.starts_with('>') || w.starts_with("&>") || w.starts_with('<') && !w.starts_with("<(")
}

/// A word holding a command substitution (`$(cat <<'EOF' …)`): what was substituted is a
/// message or a value, shown as `…`.
fn tidy_substitution(w: &str) -> String {
    if w.contains("$(") || w.contains('`') {
        "…".into()
    } else {
        w.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(cmd: &str) -> Vec<String> {
        parse(cmd).iter().filter_map(Simple::key).collect()
    }

    #[test]
    fn keys_name_the_program_and_its_subcommands() {
        let cases: &[(&str, &[&str])] = &[
            (
                "git push --set-upstream origin spotter-dov 2>&1",
                &["git push"],
            ),
            (
                "bun run verify 2>&1 | tail -30",
                &["bun run verify", "tail"],
            ),
            (
                "npx turbo run typecheck --force --filter='*'",
                &["npx turbo run typecheck"],
            ),
            ("cd assets && node build.js", &["node"]),
            (
                "gh run view 22058740928 --log-failed 2>&1 | tail -80",
                &["gh run view", "tail"],
            ),
            ("python -m pytest tests/ -q", &["python -m pytest"]),
            ("FOO=1 sudo mix phx.server", &["mix phx.server"]),
            (
                "mix test test/spotter_web/live/session_live_test.exs",
                &["mix test"],
            ),
            (
                "bd update spotter-dov.1 --status in_progress",
                &["bd update"],
            ),
            ("/usr/bin/python3 script.py", &["python3"]),
        ];
        for (cmd, want) in cases {
            assert_eq!(keys(cmd), *want, "{cmd}");
        }
    }

    #[test]
    fn heredoc_messages_are_dropped() {
        let cmd = "git add .beads/issues.jsonl && git commit -m \"$(cat <<'EOF'\nfeat: x && y; z\n\nCo-Authored-By: A <a@b>\nEOF\n)\"";
        let p = parse(cmd);
        assert_eq!(p.len(), 2, "{p:?}");
        assert_eq!(p[1].words, ["git", "commit", "-m", "…"]);
        assert_eq!(p[1].display(), "git commit -m …");
    }

    #[test]
    fn cd_sets_the_folder_of_what_follows() {
        let p = parse("cd /repo/assets && npm ci; node build.js");
        assert_eq!(p.len(), 2);
        assert!(p.iter().all(|s| s.cwd.as_deref() == Some("/repo/assets")));
    }

    #[test]
    fn wrappers_run_the_command_after_the_separator() {
        let p = parse("doppler run --project chx --config ci -- bun run test");
        assert_eq!(p[0].key().as_deref(), Some("doppler run"));
        assert_eq!(
            p[0].inner().and_then(|s| s.key()).as_deref(),
            Some("bun run test")
        );
    }

    #[test]
    fn quotes_and_escapes_hold_together() {
        let p = parse(r#"grep -r "a && b" 'c; d' e\ f"#);
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].words, ["grep", "-r", "a && b", "c; d", "e f"]);
    }

    #[test]
    fn odd_input_never_panics() {
        for s in [
            "", "'", "\"", "$(", ")", "<<", "<<EOF", "a |", "&& &&", "\\", "cd",
        ] {
            let _ = parse(s);
        }
    }
}

//! Error signatures: what makes a tool error the same error again, in another session, on
//! another branch, in another folder.
//!
//! A signature is the program that failed (`git push`, `mix test`, `bun run verify`, or the
//! tool's name for the agent's own tools: `Edit`, `Read`, `mcp__conductor__AskUserQuestion`)
//! and the error's class: the one line of the output that says what went wrong, with
//! everything that changes from run to run replaced by a placeholder — paths, branch names,
//! ids, hashes, numbers, timestamps, durations. One implementation serves the lesson
//! extractor (lessons merge by signature), the failure curve and drift.

pub mod shell;

use std::sync::LazyLock;

use regex::Regex;
use serde_json::Value;

pub use shell::Simple;

/// What makes an error the same error again.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Signature {
    /// The program and subcommand that failed, or the tool's name.
    pub program: String,
    /// The error line, generalized.
    pub class: String,
}

impl Signature {
    /// One string for the signature (`git push: fatal: the current branch <branch> has no…`).
    pub fn key(&self) -> String {
        format!("{}: {}", self.program, self.class)
    }
}

/// What differs between two occurrences of one error, as a session shows it: the git
/// branches it worked on and the folders it worked in.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Volatile {
    /// Branch names (and worktree folder names), longest first.
    pub branches: Vec<String>,
    /// Project folders, with a trailing `/`, longest first.
    pub roots: Vec<String>,
}

impl Volatile {
    /// The session's branch and folder; names too short or too common to be a branch's are
    /// left alone.
    pub fn new(branch: Option<&str>, root: Option<&str>) -> Volatile {
        let mut v = Volatile::default();
        if let Some(b) = branch {
            v.add_branch(b);
        }
        if let Some(r) = root {
            let r = format!("{}/", r.trim_end_matches('/'));
            if r.len() > 1 {
                v.roots.push(r);
            }
        }
        v
    }

    /// Adds a branch name (`spotter-dov`, `marc/num-6439-setup-cd`).
    pub fn add_branch(&mut self, b: &str) {
        let b = b.trim();
        if b.len() < 4 || matches!(b, "main" | "master" | "develop" | "trunk" | "HEAD" | "dev") {
            return;
        }
        if !self.branches.iter().any(|x| x == b) {
            self.branches.push(b.to_string());
            self.branches.sort_by_key(|x| std::cmp::Reverse(x.len()));
        }
    }

    /// `text` with the project folder made relative and branch names as `<branch>`.
    pub fn generalize(&self, text: &str) -> String {
        static HOME: LazyLock<Regex> = LazyLock::new(|| {
            Regex::new(r"(?:/Users|/home)/[^/\s'\x22`]+/").expect("a valid regex")
        });
        let mut s = text.to_string();
        for r in &self.roots {
            s = s.replace(r.as_str(), "");
            s = s.replace(r.trim_end_matches('/'), ".");
        }
        for b in &self.branches {
            s = replace_word(&s, b, "<branch>");
        }
        HOME.replace_all(&s, "~/").into_owned()
    }
}

/// `text` with every whole-word occurrence of `word` replaced.
fn replace_word(text: &str, word: &str, with: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    let is_word = |c: char| c.is_alphanumeric() || c == '_' || c == '-';
    while let Some(at) = rest.find(word) {
        let before = rest[..at].chars().last();
        let after = rest[at + word.len()..].chars().next();
        out.push_str(&rest[..at]);
        if before.is_some_and(is_word) || after.is_some_and(|c| is_word(c) && c != '-') {
            out.push_str(word);
        } else {
            out.push_str(with);
        }
        rest = &rest[at + word.len()..];
    }
    out.push_str(rest);
    out
}

/// Shell tools: their input's `command` is a shell command.
pub fn is_shell(tool: &str) -> bool {
    matches!(
        tool,
        "Bash"
            | "bash"
            | "shell"
            | "Shell"
            | "local_shell"
            | "exec_command"
            | "run_shell_command"
            | "execute_command"
    )
}

/// The shell command of a tool call's input (`command` as a string or an argv list, or `cmd`).
pub fn command_of(input: &Value) -> Option<String> {
    for key in ["command", "cmd"] {
        match input.get(key) {
            Some(Value::String(s)) => return Some(s.clone()),
            Some(Value::Array(parts)) => {
                let parts: Vec<&str> = parts.iter().filter_map(|p| p.as_str()).collect();
                // `["bash", "-lc", "cargo test"]`: the script is what ran.
                if parts.len() == 3 && matches!(parts[1], "-c" | "-lc") {
                    return Some(parts[2].to_string());
                }
                if !parts.is_empty() {
                    return Some(parts.join(" "));
                }
            }
            _ => {}
        }
    }
    None
}

/// Output text as it should be read: ANSI colours removed, JSON-escaped newlines of hook
/// output turned into lines, the harness's `<tool_use_error>` tags dropped.
pub fn clean_output(output: &str) -> String {
    static ANSI: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"\x1b\[[0-9;?]*[A-Za-z]|\[[0-9;]{1,8}m").expect("regex"));
    let mut s = ANSI.replace_all(output, "").into_owned();
    if s.contains("\\n\\n") || s.contains(":\\n") {
        s = s.replace("\\n", "\n");
    }
    s.replace("<tool_use_error>", "")
        .replace("</tool_use_error>", "")
}

/// Lines of build and test output that never say what went wrong.
static NOISE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"(?i)^\s*(?:exit code -?\d+|compiling\s|finished\s|running\s|running \d+ tests?|updating\s|downloading\s|downloaded\s|locking\s|adding\s|checking\s|blocking\s|fresh\s|>\s|\$\s|warning:|note:|help:|-->|\||=\s|\d+\s*\||failures:|---- .* ----$|stdout ----|test result: ok|error: test failed|error: could not compile|error: aborting due to|error: process didn't exit successfully|make: \*\*\*|•|[@\w/.-]+:\w+: (?:cache|\$)|error: script "[^"]+" exited with code|ERROR\s+run failed|\S+#\S+: command \(|\[stderr\] \$ |warn\b|npm warn\b|⚠)"#,
    )
    .expect("a valid regex")
});
/// Lines that name an error outright.
static ERROR_LINE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)^(?:error(?:\[\w+\])?:|fatal:|\*\* \(\w+|\[?[\w.]*(?:error|exception):|npm err!|e\s+\w+error|✘ \[error\]|\[error\]|ERR_|ERROR\s)|:\s*error\s+TS\d+|error\[E\d+\]|\berror\s+TS\d+|\bfailed:|\bError:|^thread '.*' panicked at ",
    )
    .expect("a valid regex")
});
/// Lines that say something failed.
static FAILURE_WORDS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)command not found|no such file|not found|refused|denied|cannot|can't|could not|couldn't|\bfailed\b|\bfailure\b|timed out|unable to|invalid|does not exist|doesn't exist|\bfatal\b|exception|traceback|not successful|unsuccessful|panic|has not been|exceeds|too big|not allowed|already exists|\bmissing\b|no upstream|ignored by|is not|are not|must\b",
    )
    .expect("a valid regex")
});

/// The line of an error output that says what went wrong: the first that names an error,
/// else the first that says something failed, else the first that is not noise. A short
/// line ending in `:` takes the next line with it (`Pre-commit validation failed:` →
/// `… [FORMAT] Code is not formatted.`); a validation error's `"message"` is added.
pub fn error_line(output: &str) -> Option<String> {
    let cleaned = clean_output(output);
    let lines: Vec<&str> = cleaned
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let useful = |l: &str| !NOISE.is_match(l) && l.chars().any(char::is_alphabetic);
    let pick = lines
        .iter()
        .position(|l| useful(l) && ERROR_LINE.is_match(l))
        .or_else(|| {
            lines.iter().position(|l| {
                useful(l)
                    && FAILURE_WORDS.is_match(l)
                    && !l.contains(" 0 failed")
                    && !l.contains(" 0 failures")
            })
        })
        .or_else(|| lines.iter().position(|l| useful(l)))?;
    let mut line = lines[pick].to_string();
    // A Rust panic's location line says nothing; its message is on the next line.
    if line.starts_with("thread '")
        && line.ends_with(':')
        && let Some(next) = lines[pick + 1..].iter().find(|l| useful(l))
    {
        return Some((*next).to_string());
    }
    if (line.ends_with(':') || line.ends_with('[') || line.ends_with('{'))
        && line.chars().count() <= 120
    {
        static MESSAGE: LazyLock<Regex> =
            LazyLock::new(|| Regex::new(r#""message":\s*"((?:[^"\\]|\\.)*)""#).expect("regex"));
        if let Some(m) = MESSAGE.captures(&cleaned[cleaned.find(lines[pick]).unwrap_or(0)..]) {
            line = format!("{} {}", line.trim_end_matches(['[', '{', ' ']), &m[1]);
        } else if let Some(next) = lines[pick + 1..].iter().find(|l| useful(l)) {
            line = format!("{line} {next}");
        }
    }
    Some(line)
}

/// The class of an error line: the line with paths, branch names, ids, hashes, numbers,
/// timestamps and durations as placeholders, lowercased, at most 120 characters.
pub fn class_of(line: &str, v: &Volatile) -> String {
    static TIMESTAMP: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:[Zz]|[+-]\d{2}:?\d{2})?")
            .expect("regex")
    });
    static DURATION: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"\b\d+(?:\.\d+)?\s?(?:ms|s|µs|us|ns|m)\b").expect("regex"));
    static PATH: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r#"(^|[\s'"`(=:\[])((?:~|\.{1,2})?/[^\s'"`,;:()\[\]]+|[\w.-]+/[\w./-]*\.[A-Za-z]{1,5}\b)"#)
            .expect("regex")
    });
    static HEX: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\b[0-9a-f]{7,}\b").expect("regex"));
    static NUMBER: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"(?:^|[^A-Za-z0-9])(\d+)").expect("regex"));
    // Lowercased first, so that the placeholders stay as written.
    let s = v.generalize(line).to_lowercase();
    let s = TIMESTAMP.replace_all(&s, "<time>");
    let s = DURATION.replace_all(&s, "<duration>");
    let s = PATH.replace_all(&s, "$1<path>");
    let s = HEX.replace_all(&s, |c: &regex::Captures| {
        let m = &c[0];
        if m.chars().any(|ch| ch.is_ascii_digit()) {
            "<id>".to_string()
        } else {
            m.to_string()
        }
    });
    let s = NUMBER.replace_all(&s, |c: &regex::Captures| {
        let m = c.get(0).map_or("", |m| m.as_str());
        let lead: String = m.chars().take_while(|ch| !ch.is_ascii_digit()).collect();
        format!("{lead}N")
    });
    let s: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    s.chars().take(120).collect()
}

/// The simple command of a failed shell command that failed: the one whose program the
/// output names, else the first that is not a filter (`tail`, `grep`…) or set-up.
pub fn failed_simple<'a>(simples: &'a [Simple], output: &str) -> Option<&'a Simple> {
    let lower = output.to_lowercase();
    let mentioned = |w: &str| w.len() > 2 && lower.contains(&w.to_lowercase());
    // The most named: its program, then its subcommand, in the output; ties go to the first.
    let mut best: Option<(usize, &Simple)> = None;
    for s in simples
        .iter()
        .filter(|s| s.program().is_some_and(|p| !is_filter(p)))
    {
        let key = s.key().unwrap_or_default();
        let mut words = key.split_whitespace();
        let score = words.next().map_or(0, |p| usize::from(mentioned(p)))
            + words.map(|w| usize::from(mentioned(w))).sum::<usize>();
        if best.is_none_or(|(b, _)| score > b) {
            best = Some((score, s));
        }
    }
    best.map(|(_, s)| s).or(simples.first())
}

/// Programs that only shape another's output or set things up.
pub fn is_filter(program: &str) -> bool {
    matches!(
        program,
        "tail"
            | "head"
            | "grep"
            | "egrep"
            | "rg"
            | "less"
            | "more"
            | "sort"
            | "uniq"
            | "wc"
            | "tee"
            | "cut"
            | "tr"
            | "jq"
            | "cat"
            | "echo"
            | "printf"
            | "sleep"
            | "true"
            | "false"
            | "export"
            | "source"
            | "."
            | "set"
            | "xargs"
            | "awk"
            | "sed"
            | "column"
    )
}

/// The signature of a failed call: `tool` with `input`, and its error output.
pub fn of_call(tool: &str, input: Option<&Value>, output: &str, v: &Volatile) -> Signature {
    let line = error_line(output).unwrap_or_default();
    let program = if is_shell(tool) {
        let cmd = input.and_then(command_of).unwrap_or_default();
        let simples = shell::parse(&cmd);
        failed_simple(&simples, output)
            .and_then(|s| {
                // A wrapper's own error is the wrapper's (`Doppler Error`); otherwise the
                // command it ran failed.
                match s.inner() {
                    Some(inner) if !output.to_lowercase().contains(s.program().unwrap_or("")) => {
                        inner.key()
                    }
                    _ => s.key(),
                }
            })
            .unwrap_or_else(|| tool.to_string())
    } else {
        tool.to_string()
    };
    Signature {
        program,
        class: class_of(&line, v),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sig(tool: &str, input: Value, output: &str, v: &Volatile) -> String {
        of_call(tool, Some(&input), output, v).key()
    }

    #[test]
    fn the_same_error_on_two_branches_is_one_signature() {
        // marot__spotter…4d5611e5….jsonl:1477 and …8463c716….jsonl:1564
        let out = |b: &str| {
            format!(
                "Exit code 128\nfatal: The current branch {b} has no upstream branch.\nTo push the current branch and set the remote as upstream, use\n\n    git push --set-upstream origin {b}\n"
            )
        };
        let a = Volatile::new(
            Some("spotter-dov"),
            Some("/home/USER/projects/spotter-worktrees/spotter-dov"),
        );
        let b = Volatile::new(
            Some("spotter-fum"),
            Some("/home/USER/projects/spotter-worktrees/spotter-fum"),
        );
        let sa = sig(
            "Bash",
            json!({"command": "git push 2>&1"}),
            &out("spotter-dov"),
            &a,
        );
        let sb = sig(
            "Bash",
            json!({"command": "git push"}),
            &out("spotter-fum"),
            &b,
        );
        assert_eq!(sa, sb);
        assert_eq!(
            sa,
            "git push: fatal: the current branch <branch> has no upstream branch."
        );
    }

    #[test]
    fn numbers_paths_and_ids_are_placeholders() {
        let v = Volatile::default();
        // marot__spotter…8463c716….jsonl:69
        let s = sig(
            "Read",
            json!({"file_path": "/x/test/fixtures/transcripts/subagent.jsonl"}),
            "File content (85812 tokens) exceeds maximum allowed tokens (25000). Please use offset and limit parameters to read specific portions of the file, or use the GrepTool to search for specific content.",
            &v,
        );
        assert!(
            s.starts_with("Read: file content (N tokens) exceeds maximum allowed tokens (N)"),
            "{s}"
        );
        let s = sig(
            "Bash",
            json!({"command": "cat /a/b/c.txt"}),
            "cat: /a/b/c.txt: No such file or directory",
            &v,
        );
        assert_eq!(s, "cat: cat: <path>: no such file or directory");
        // Codes stay: TS2307 is the error.
        let s = class_of(
            "src/a.ts(3,21): error TS2307: Cannot find module '@chkit/core'",
            &v,
        );
        assert!(s.contains("ts2307") && s.contains("'@chkit/core'"), "{s}");
    }

    #[test]
    fn the_line_that_says_what_went_wrong() {
        let cases: &[(&str, &str)] = &[
            (
                "Exit code 1\nThe following paths are ignored by one of your .gitignore files:\npriv/static/assets\nhint: Use -f if you really want to add them.",
                "The following paths are ignored by one of your .gitignore files: priv/static/assets",
            ),
            (
                "<tool_use_error>File has not been read yet. Read it first before writing to it.</tool_use_error>",
                "File has not been read yet. Read it first before writing to it.",
            ),
            (
                "Pre-commit validation failed:\\n\\n[FORMAT] Code is not formatted.\\nRun 'mix format' to fix.",
                "Pre-commit validation failed: [FORMAT] Code is not formatted.",
            ),
            (
                "MCP error -32602: Input validation error: Invalid arguments for tool AskUserQuestion: [\n  {\n    \"code\": \"too_big\",\n    \"message\": \"Too big: expected array to have <=4 items\"\n  }\n]",
                "MCP error -32602: Input validation error: Invalid arguments for tool AskUserQuestion: Too big: expected array to have <=4 items",
            ),
            (
                "Exit code 1\n✘ [ERROR] Could not resolve \"js/app.js\"\n\n1 error",
                "✘ [ERROR] Could not resolve \"js/app.js\"",
            ),
            (
                "\u{1b}[31mDoppler Error:\u{1b}[0m You must specify a project",
                "Doppler Error: You must specify a project",
            ),
            (
                // d-kimuson__claude-code-viewer…fe5e1c67….jsonl:403
                "npm warn Unknown env config \"store-dir\". This will stop working in the next major version of npm.\n\n> Build error occurred\n[TypeError: generate is not a function]\n\n> todo-app@0.1.0 build\n> next build",
                "[TypeError: generate is not a function]",
            ),
            (
                "running 2 tests\ntest create_tally_returns_201 ... FAILED\n\nfailures:\n\n---- create_tally_returns_201 stdout ----\n\nthread 'create_tally_returns_201' panicked at tests/common/mod.rs:9:45:\nDATABASE_URL must be set for integration tests: NotPresent\n",
                "DATABASE_URL must be set for integration tests: NotPresent",
            ),
        ];
        for (out, want) in cases {
            assert_eq!(error_line(out).as_deref(), Some(*want), "{out}");
        }
        assert_eq!(error_line(""), None);
    }

    #[test]
    fn a_wrappers_own_error_is_the_wrappers() {
        let v = Volatile::default();
        let cmd = json!({"command": "doppler run --project chkit --config ci -- bun run test"});
        let s = of_call(
            "Bash",
            Some(&cmd),
            "Doppler Error: Could not find requested project 'chkit'",
            &v,
        );
        assert_eq!(s.program, "doppler run");
        let s = of_call("Bash", Some(&cmd), "error: 3 tests failed", &v);
        assert_eq!(s.program, "bun run test");
    }

    #[test]
    fn branch_names_are_whole_words() {
        let mut v = Volatile::default();
        v.add_branch("spotter-dov");
        assert_eq!(
            v.generalize("git push origin spotter-dov; bd show spotter-dov.1; spotter-dovx"),
            "git push origin <branch>; bd show <branch>.1; spotter-dovx"
        );
        v.add_branch("main");
        assert_eq!(v.branches, ["spotter-dov"]);
    }
}

//! `reverie claude-code hook` fed the documented JSON of each hook event, as Claude Code runs
//! it: a project's sessions go into the project's store (one per repository, whatever folder
//! or worktree it is in), the store's context comes back at `SessionStart`, the glossary and
//! pinned notes a prompt names at `UserPromptSubmit` — and bad input never fails the session.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::{Value, json};

struct Home {
    dir: tempfile::TempDir,
    database: String,
}

impl Home {
    fn new() -> Home {
        let dir = tempfile::tempdir().unwrap();
        let database = dir.path().join("reverie.db").display().to_string();
        Home { dir, database }
    }

    fn path(&self, p: &str) -> PathBuf {
        self.dir.path().join(p)
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_reverie"));
        c.args(args)
            .current_dir(self.dir.path())
            .env("HOME", self.path("home"))
            .env("XDG_STATE_HOME", self.path("state"))
            .env_remove("CLAUDE_CONFIG_DIR")
            .env_remove("XDG_CACHE_HOME")
            .env_remove("XDG_CONFIG_HOME")
            .env_remove("REVERIE_CONFIG")
            .env("REVERIE_DATABASE_URL", &self.database)
            .env_remove("XDG_DATA_HOME")
            .env_remove("REVERIE_STORE");
        c
    }

    /// `reverie claude-code hook` with `input` on standard input: it must exit 0.
    fn hook(&self, input: &[u8]) -> Output {
        let mut child = self
            .cmd(&["claude-code", "hook"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(input).unwrap();
        let out = child.wait_with_output().unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "a hook failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    /// The hook's answer to `event`, once the work it started in the background is done.
    fn event(&self, event: &Value) -> Option<Value> {
        let out = self.hook(event.to_string().as_bytes());
        reverie_testkit::claude_code_settled(&self.path("state"));
        let text = String::from_utf8(out.stdout).unwrap();
        if text.trim().is_empty() {
            return None;
        }
        Some(serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}")))
    }

    fn json(&self, args: &[&str]) -> Value {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        let out = self.cmd(&all).output().unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.path("state/reverie/claude-code.log")).unwrap_or_default()
    }

    /// The stores made for Claude Code projects.
    fn stores(&self) -> Vec<Value> {
        let v = self.json(&["store", "ls"]);
        v.as_array()
            .or_else(|| v["data"].as_array())
            .unwrap_or_else(|| panic!("{v}"))
            .iter()
            .filter(|s| s["name"].as_str().is_some_and(|n| n.starts_with("cc-")))
            .cloned()
            .collect()
    }
}

use reverie_testkit::git;

/// A real Claude Code transcript of `../shared/data/transcripts`.
fn real_transcript() -> PathBuf {
    let dir = reverie_testkit::repo_root().join("../shared/data/transcripts");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.extension().is_some_and(|x| x == "jsonl")
                && p.file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with("moredip"))
        })
        .collect();
    files.sort();
    files.into_iter().next().expect("a moredip transcript")
}

fn ev(name: &str, cwd: &Path, transcript: &Path, extra: Value) -> Value {
    let mut e = json!({
        "session_id": "0b5c7c1e-7f9e-4c55-9d1e-2f3a4b5c6d7e",
        "transcript_path": transcript,
        "cwd": cwd,
        "hook_event_name": name,
    });
    for (k, v) in extra.as_object().unwrap() {
        e[k] = v.clone();
    }
    e
}

#[test]
fn hooks_bring_sessions_in_and_serve_the_memory_back() {
    let h = Home::new();
    let repo = h.path("work/app");
    std::fs::create_dir_all(&repo).unwrap();
    git(&repo, "git init -q && git commit -q --allow-empty -m init");
    let transcript = h.path("session.jsonl");
    std::fs::copy(real_transcript(), &transcript).unwrap();

    // Nothing is served for a project with no store yet, and no store is made for it.
    assert_eq!(
        h.event(&ev(
            "SessionStart",
            &repo,
            &transcript,
            json!({"source": "startup"})
        )),
        None
    );
    assert!(h.stores().is_empty());

    // The session's end brings the transcript in; the same transcript again changes nothing.
    let end = ev(
        "SessionEnd",
        &repo,
        &transcript,
        json!({"reason": "prompt_input_exit"}),
    );
    assert_eq!(h.event(&end), None);
    let stores = h.stores();
    assert_eq!(stores.len(), 1, "{stores:?}");
    let store = stores[0]["id"].as_str().unwrap().to_string();
    let sessions = |h: &Home| {
        let v = h.json(&["sessions", "ls", "-s", &store]);
        v.as_array()
            .or_else(|| v["data"].as_array())
            .map_or(0, Vec::len)
    };
    assert_eq!(sessions(&h), 1);
    assert_eq!(h.event(&end), None);
    assert_eq!(sessions(&h), 1, "the same transcript made a second session");
    assert_eq!(h.log(), "", "nothing went wrong");

    // A worktree of the same repository, and a subfolder, go to the same store.
    git(&repo, "git worktree add -q ../feature 2>/dev/null");
    let t2 = h.path("other.jsonl");
    std::fs::write(
        &t2,
        "User: from now on, run `make lint` before pushing.\nAssistant: Will do.\n",
    )
    .unwrap();
    h.event(&ev(
        "PreCompact",
        &h.path("work/feature"),
        &t2,
        json!({"trigger": "auto"}),
    ));
    assert_eq!(h.stores().len(), 1, "the worktree made a store of its own");
    assert_eq!(sessions(&h), 2);

    // A glossary line and a rule written by hand, a dream, the rule pinned: what the next
    // sessions are served.
    let out = h
        .cmd(&[
            "put",
            "-s",
            &store,
            "/glossary.md",
            "--content",
            "# Glossary\n\n- **TLH**: short for tallyho, the staging cluster\n",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = h
        .cmd(&[
            "put",
            "-s",
            &store,
            "/rules.md",
            "--content",
            "# Rules\n\n- Never push to `main`; open a PR from a `feature/*` branch.\n",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    // The dream makes the hand-written lines entries too; then the rule is pinned.
    let out = h.cmd(&["dream", "-s", &store]).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let entries = h.json(&["entries", "ls", "-s", &store]);
    let rule = entries
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["text"].as_str().unwrap().contains("Never push"))
        .unwrap_or_else(|| panic!("{entries}"))["id"]
        .as_str()
        .unwrap()
        .to_string();
    // A session starts before the pin (its context is kept for the next), then the pin: the
    // next start is not served the context kept from before it.
    let before = h
        .event(&ev(
            "SessionStart",
            &repo,
            &transcript,
            json!({"source": "startup"}),
        ))
        .expect("context");
    assert!(
        !before["hookSpecificOutput"]["additionalContext"]
            .as_str()
            .unwrap()
            .contains("## Pinned"),
        "{before}"
    );
    let out = h
        .cmd(&["entries", "pin", "-s", &store, &rule])
        .output()
        .unwrap();
    assert!(out.status.success());

    let start = h
        .event(&ev(
            "SessionStart",
            &repo,
            &transcript,
            json!({"source": "startup"}),
        ))
        .expect("context at the session's start");
    assert_eq!(start["hookSpecificOutput"]["hookEventName"], "SessionStart");
    let context = start["hookSpecificOutput"]["additionalContext"]
        .as_str()
        .unwrap();
    assert!(
        context.contains("Never push to `main`") && context.contains("[instructions.md]"),
        "{context}"
    );

    let prompt = |p: &str| {
        h.event(&ev(
            "UserPromptSubmit",
            &repo,
            &transcript,
            json!({"prompt": p}),
        ))
    };
    let got = prompt("please restart TLH, then push to main").expect("notes for the prompt");
    assert_eq!(
        got["hookSpecificOutput"]["hookEventName"],
        "UserPromptSubmit"
    );
    let notes = got["hookSpecificOutput"]["additionalContext"]
        .as_str()
        .unwrap();
    assert!(
        notes.contains("tallyho") && notes.contains("Never push"),
        "{notes}"
    );
    assert_eq!(
        prompt("what does the athlete eat?"),
        None,
        "nothing named: nothing added"
    );
    assert_eq!(h.log(), "", "nothing went wrong");
}

#[test]
fn bad_input_never_fails_the_session_and_is_logged() {
    let h = Home::new();
    let cwd = h.path("plain");
    std::fs::create_dir_all(&cwd).unwrap();
    for (input, logged) in [
        (b"not json at all".to_vec(), "not JSON"),
        (b"".to_vec(), "not JSON"),
        (
            ev("SessionEnd", &cwd, &h.path("missing.jsonl"), json!({}))
                .to_string()
                .into_bytes(),
            "is not there",
        ),
        (
            json!({"hook_event_name": "SessionEnd"})
                .to_string()
                .into_bytes(),
            "transcript_path",
        ),
        (
            json!({"hook_event_name": "Bogus", "cwd": cwd})
                .to_string()
                .into_bytes(),
            "nothing to do",
        ),
    ] {
        let before = h.log().lines().count();
        let out = h.hook(&input);
        assert!(
            out.stdout.is_empty(),
            "{}",
            String::from_utf8_lossy(&out.stdout)
        );
        let log = h.log();
        assert_eq!(log.lines().count(), before + 1, "{log}");
        assert!(log.lines().last().unwrap().contains(logged), "{log}");
    }
    // The prompt never reaches the log.
    let secret_prompt = json!({
        "hook_event_name": "UserPromptSubmit",
        "prompt": "my password is hunter2",
    });
    h.hook(secret_prompt.to_string().as_bytes());
    assert!(!h.log().contains("hunter2"), "{}", h.log());
    // A database that cannot be opened: logged, exit 0.
    let mut child = h
        .cmd(&["--database", "/proc/nope/reverie.db", "claude-code", "hook"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let t = h.path("t.jsonl");
    std::fs::write(&t, "User: hello\n").unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(ev("SessionEnd", &cwd, &t, json!({})).to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    reverie_testkit::claude_code_settled(&h.path("state"));
    assert!(
        h.log().lines().last().unwrap().contains("SessionEnd"),
        "{}",
        h.log()
    );
}

/// The hooks' command names the database by an absolute path (hooks run in each project's
/// folder), and a database URL holding a password is never written into the settings.
#[test]
fn install_writes_an_absolute_database_and_no_password() {
    let h = Home::new();
    std::fs::create_dir_all(h.path("home")).unwrap();
    let out = h
        .cmd(&["--database", "rel.db", "claude-code", "install"])
        .env_remove("CLAUDE_CONFIG_DIR")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let settings = std::fs::read_to_string(h.path("home/.claude/settings.json")).unwrap();
    let abs = h.path("rel.db").display().to_string();
    assert!(
        settings.contains(&format!("--database {abs} claude-code hook")),
        "{settings}"
    );

    let before = settings;
    let out = h
        .cmd(&[
            "--database",
            "postgres://me:s3cret@db.example.com/reverie",
            "claude-code",
            "install",
        ])
        .env_remove("CLAUDE_CONFIG_DIR")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("password") && !err.contains("s3cret"), "{err}");
    let after = std::fs::read_to_string(h.path("home/.claude/settings.json")).unwrap();
    assert_eq!(after, before, "the settings changed");
}

/// `status`: what is installed, the projects' stores with their sessions and dreams, the hook
/// log; exit 5 while something is wrong (here: the hooks not installed).
#[test]
fn status_says_what_is_installed_and_how_the_projects_are_doing() {
    let h = Home::new();
    std::fs::create_dir_all(h.path("home")).unwrap();
    let repo = h.path("work/app");
    std::fs::create_dir_all(&repo).unwrap();
    git(&repo, "git init -q && git commit -q --allow-empty -m init");
    let t = h.path("t.txt");
    std::fs::write(&t, "User: from now on, run `make lint` before pushing.\n").unwrap();
    h.event(&ev("SessionEnd", &repo, &t, json!({"reason": "other"})));
    h.hook(b"garbage");

    let status = |h: &Home| {
        let out = h
            .cmd(&["--json", "claude-code", "status"])
            .output()
            .unwrap();
        let v: Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)));
        (out.status.code(), v)
    };
    let (code, v) = status(&h);
    assert_eq!(code, Some(5), "{v}");
    assert!(
        v["problems"][0].as_str().unwrap().contains("not installed"),
        "{v}"
    );
    let projects = v["projects"].as_array().unwrap();
    assert_eq!(projects.len(), 1, "{v}");
    assert_eq!(projects[0]["sessions"], 1, "{v}");
    assert!(projects[0]["last_ingest"].is_string(), "{v}");
    // The session's end dreamed the new store, as its schedule says.
    assert_eq!(projects[0]["last_dream"]["status"], "completed", "{v}");
    assert_eq!(v["pending"], json!([]), "{v}");
    assert!(v["log"][0].as_str().unwrap().contains("not JSON"), "{v}");

    let out = h
        .cmd(&["claude-code", "install"])
        .env_remove("CLAUDE_CONFIG_DIR")
        .output()
        .unwrap();
    assert!(out.status.success());
    // Background work that died is said to be so.
    let marker = h.path("state/reverie/pending/1-1.json");
    std::fs::write(
        &marker,
        json!({"event": "SessionEnd", "transcript_path": "/x.jsonl"}).to_string(),
    )
    .unwrap();
    let old = std::time::SystemTime::now() - std::time::Duration::from_secs(3_600);
    std::fs::File::options()
        .write(true)
        .open(&marker)
        .unwrap()
        .set_modified(old)
        .unwrap();
    let (code, v) = status(&h);
    assert_eq!(code, Some(5), "{v}");
    assert!(
        v["problems"][0]
            .as_str()
            .unwrap()
            .contains("did not finish"),
        "{v}"
    );
    std::fs::remove_file(&marker).unwrap();
    let (code, v) = status(&h);
    assert_eq!(code, Some(0), "{v}");
    assert_eq!(
        v["installed"][0]["events"].as_array().unwrap().len(),
        6,
        "{v}"
    );
    assert_eq!(v["projects"][0]["last_dream"]["status"], "completed", "{v}");
    let text = h
        .cmd(&["claude-code", "status"])
        .env_remove("CLAUDE_CONFIG_DIR")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.contains("installed for SessionStart") && text.contains("cc-"),
        "{text}"
    );
}

/// A copy of `file` (a real transcript) whose lines say they ran in `cwd`, as the user's own
/// machine would have recorded them.
fn relocated(file: &Path, cwd: &Path, to: &Path) {
    std::fs::create_dir_all(to.parent().unwrap()).unwrap();
    std::fs::write(to, reverie_testkit::relocated_transcript(file, cwd)).unwrap();
}

/// `sync` sweeps `~/.claude/projects` for transcripts no hook brought in: each into its
/// project's store (the worktrees of one repository into one), once; then dreams the stores
/// whose schedule calls for it.
#[test]
fn sync_brings_in_what_no_hook_did_and_dreams() {
    let h = Home::new();
    let data = reverie_testkit::repo_root().join("../shared/data/transcripts");
    let pick = |prefix: &str, n: usize| -> Vec<PathBuf> {
        let mut v: Vec<PathBuf> = std::fs::read_dir(&data)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| {
                p.file_name()
                    .is_some_and(|f| f.to_string_lossy().starts_with(prefix))
                    && p.extension().is_some_and(|x| x == "jsonl")
            })
            .collect();
        v.sort();
        v.truncate(n);
        v
    };
    // One repository with two worktrees, and another repository.
    let chkit = h.path("work/chkit");
    std::fs::create_dir_all(&chkit).unwrap();
    git(
        &chkit,
        "git init -q && git commit -q --allow-empty -m init && git worktree add -q ../chkit-munich 2>/dev/null && git worktree add -q ../chkit-amman 2>/dev/null",
    );
    let spotter = h.path("work/spotter");
    std::fs::create_dir_all(&spotter).unwrap();
    // Its own first commit: two repositories whose root commit is the same commit (forks)
    // share a store.
    git(
        &spotter,
        "git init -q && git commit -q --allow-empty -m 'spotter begins'",
    );
    let projects = h.path("home/.claude/projects");
    let places = [
        chkit.clone(),
        h.path("work/chkit-munich"),
        h.path("work/chkit-amman"),
    ];
    for (i, f) in pick("obsessiondb__chkit", 3).iter().enumerate() {
        let slug = places[i].display().to_string().replace(['/', '.'], "-");
        relocated(
            f,
            &places[i],
            &projects.join(slug).join(format!("c{i}.jsonl")),
        );
    }
    let slug = spotter.display().to_string().replace(['/', '.'], "-");
    for (i, f) in pick("marot__spotter", 2).iter().enumerate() {
        relocated(
            f,
            &spotter,
            &projects.join(&slug).join(format!("s{i}.jsonl")),
        );
    }
    // A file that says nothing of where it ran.
    std::fs::write(
        projects.join(&slug).join("stray.jsonl"),
        "{\"type\":\"summary\",\"summary\":\"x\"}\n",
    )
    .unwrap();

    let sync = |extra: &[&str]| {
        let mut args = vec!["--json", "claude-code", "sync"];
        args.extend_from_slice(extra);
        let out = h.cmd(&args).output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice::<Value>(&out.stdout).unwrap()
    };
    let first = sync(&["--no-dream"]);
    let ps = first["projects"].as_array().unwrap();
    assert_eq!(
        ps.len(),
        2,
        "the worktrees of one repository share a store: {first}"
    );
    let created: u64 = ps
        .iter()
        .map(|p| p["sessions_created"].as_u64().unwrap())
        .sum();
    assert_eq!(created, 5, "{first}");
    assert_eq!(first["skipped"].as_array().unwrap().len(), 1, "{first}");
    assert!(first["dreams"].as_array().unwrap().is_empty());

    let again = sync(&["--no-dream"]);
    let unchanged: u64 = again["projects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["unchanged"].as_u64().unwrap())
        .sum();
    assert_eq!(unchanged, 5, "{again}");

    let dreamt = sync(&[]);
    let dreams = dreamt["dreams"].as_array().unwrap();
    assert_eq!(dreams.len(), 2, "each project's store dreamed: {dreamt}");
    assert!(
        dreams.iter().all(|d| d["status"] == "completed"),
        "{dreamt}"
    );
    // Dreamed once: the next sync within the hour dreams nothing.
    assert!(sync(&[])["dreams"].as_array().unwrap().is_empty());
}

/// Every file of a folder (hidden ones but the manifest left out), relative path → bytes.
fn files_of(dir: &Path) -> std::collections::BTreeMap<String, String> {
    let mut out = std::collections::BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            if p.is_dir() {
                stack.push(p);
            } else if !name.starts_with('.') {
                let rel = p.strip_prefix(dir).unwrap().display().to_string();
                out.insert(rel, std::fs::read_to_string(&p).unwrap());
            }
        }
    }
    out
}

/// `sync` exports each project's curated memory into its Claude Code memory folder (the
/// repository's main folder's, shared by its worktrees), in Claude Code's format, and reads
/// what Claude Code or the user changed there back first: edits, new topic files, deletions
/// and index lines become versions (by the Claude Code session that wrote them, when its
/// transcript says so); a file changed on both sides keeps both; any earlier export comes back
/// with `reverie restore`.
#[test]
fn sync_exports_the_memory_folder_and_reads_claude_codes_changes_back() {
    let h = Home::new();
    let data = reverie_testkit::repo_root().join("../shared/data/transcripts");
    let mut real: Vec<PathBuf> = std::fs::read_dir(&data)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .is_some_and(|f| f.to_string_lossy().starts_with("obsessiondb__chkit"))
                && p.extension().is_some_and(|x| x == "jsonl")
        })
        .collect();
    real.sort();
    let app = h.path("work/app");
    std::fs::create_dir_all(&app).unwrap();
    git(
        &app,
        "git init -q && git commit -q --allow-empty -m init && git worktree add -q ../app-wt 2>/dev/null",
    );
    let projects = h.path("home/.claude/projects");
    let slug = |p: &Path| reverie_testkit::claude_project_folder(p);
    relocated(&real[0], &app, &projects.join(slug(&app)).join("a0.jsonl"));
    let wt = h.path("work/app-wt");
    relocated(&real[1], &wt, &projects.join(slug(&wt)).join("w0.jsonl"));
    // A session cut short (Ctrl+C mid-write): its last line is half there.
    let cut = projects.join(slug(&app)).join("a1.jsonl");
    relocated(&real[2], &app, &cut);
    let text = std::fs::read_to_string(&cut).unwrap();
    std::fs::write(&cut, &text[..text.len() * 2 / 3]).unwrap();

    let sync = |extra: &[&str]| {
        let mut args = vec!["--json", "claude-code", "sync"];
        args.extend_from_slice(extra);
        let out = h.cmd(&args).output().unwrap();
        let v: Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
        assert!(out.status.success(), "{v:#}");
        v
    };
    let first = sync(&[]);
    assert_eq!(first["dreams"].as_array().unwrap().len(), 1, "{first:#}");
    let folder = projects.join(slug(&app)).join("memory");
    assert!(
        !projects.join(slug(&wt)).join("memory").exists(),
        "a worktree shares its repository's folder"
    );
    let exported = files_of(&folder);
    let index = &exported["MEMORY.md"];
    assert!(
        index.lines().count() <= 200 && index.len() <= 25_000,
        "{index}"
    );
    let topics: Vec<&String> = exported.keys().filter(|k| *k != "MEMORY.md").collect();
    assert!(topics.len() >= 2, "{exported:#?}");
    for t in &topics {
        let body = &exported[*t];
        assert!(
            body.starts_with("---\nname: ")
                && body.contains("\ndescription: ")
                && body.contains("\ntype: ")
                && index.contains(&format!("]({t}) — ")),
            "{t}: {body}\n{index}"
        );
    }
    let store = first["projects"][0]["store_id"]
        .as_str()
        .unwrap()
        .to_string();
    let revision = first["exports"][0]["export"]["revision"].as_i64().unwrap();
    // Nothing changed: a second sync reads nothing and writes nothing.
    let again = sync(&["--no-dream"]);
    let x = &again["exports"][0]["export"];
    assert!(
        x["read"].as_array().unwrap().is_empty() && x["written"].as_array().unwrap().is_empty(),
        "{again:#}"
    );

    // Claude Code at work in the folder: an edited line, a new topic file (written by a
    // session whose transcript records it), a deleted file, a line added to the index.
    // (Two topic files of the store's own paths: `MEMORY-1.md` would be `/MEMORY.md`'s.)
    let own: Vec<&&String> = topics.iter().filter(|t| !t.starts_with("MEMORY")).collect();
    let edited = own[0].to_string();
    let deleted = own[1].to_string();
    let mut e = exported[&edited].clone();
    e.push_str("- Learned in a session: run `make check` before pushing.\n");
    std::fs::write(folder.join(&edited), &e).unwrap();
    std::fs::remove_file(folder.join(&deleted)).unwrap();
    let new_topic = "---\nname: deploys\ndescription: how staging deploys go\ntype: project\n---\n\nStaging deploys go through `make ship ENV=staging`.\n";
    let new_path = folder.join("deploys.md");
    std::fs::write(&new_path, new_topic).unwrap();
    std::fs::write(
        folder.join("MEMORY.md"),
        format!("{index}- [deploys](deploys.md) — how staging deploys go\n- The user wants answers in French.\n"),
    )
    .unwrap();
    let writer = projects.join(slug(&app)).join("a2.jsonl");
    let lines = [
        json!({"type":"user","cwd":app,"sessionId":"s-a2","uuid":"u1","timestamp":"2026-12-01T10:00:00Z",
               "message":{"role":"user","content":"remember how staging deploys go"}}),
        json!({"type":"assistant","cwd":app,"sessionId":"s-a2","uuid":"u2","timestamp":"2026-12-01T10:00:05Z",
               "message":{"role":"assistant","content":[{"type":"tool_use","id":"toolu_1","name":"Write",
               "input":{"file_path":new_path,"content":new_topic}}]}}),
    ];
    std::fs::write(
        &writer,
        lines.iter().map(|l| format!("{l}\n")).collect::<String>(),
    )
    .unwrap();

    let read = sync(&["--no-dream"]);
    let reads = read["projects"][0]["read_back"][0]["read"]
        .as_array()
        .unwrap();
    let change = |file: &str| {
        reads
            .iter()
            .find(|r| r["file"] == file)
            .unwrap_or_else(|| panic!("{file}: {read:#}"))
            .clone()
    };
    assert_eq!(change(&edited)["change"], "updated", "{read:#}");
    assert_eq!(change(&deleted)["change"], "deleted", "{read:#}");
    assert_eq!(change("MEMORY.md")["change"], "notes", "{read:#}");
    let created = change("deploys.md");
    assert_eq!(created["change"], "created", "{read:#}");
    assert!(
        created["actor"]
            .as_str()
            .unwrap()
            .starts_with("session_actor:sesn_"),
        "the session that wrote it: {read:#}"
    );
    // The store holds every change; the folder is the store again.
    let get = |path: &str| {
        h.json(&["get", "-s", &store, path])["content"]
            .as_str()
            .map(str::to_string)
    };
    assert!(get(&format!("/{edited}")).unwrap().contains("make check"));
    assert_eq!(get("/deploys.md").unwrap(), new_topic);
    assert!(
        get("/notes.md")
            .unwrap()
            .contains("- The user wants answers in French.\n")
    );
    let out = h
        .cmd(&["get", "-s", &store, &format!("/{deleted}")])
        .output()
        .unwrap();
    assert!(
        !out.status.success(),
        "deleted in the folder, deleted in the store"
    );
    let now = files_of(&folder);
    assert_eq!(
        now["deploys.md"], new_topic,
        "written as Claude Code wrote it"
    );
    assert!(now[&edited].ends_with("- Learned in a session: run `make check` before pushing.\n"));
    assert!(!now.contains_key(&deleted));
    assert!(now.contains_key("notes.md"));
    // The line lives in notes.md now, which the index lists.
    assert!(
        !now["MEMORY.md"]
            .lines()
            .any(|l| l == "- The user wants answers in French.")
            && now["MEMORY.md"].contains("](notes.md) — The user wants answers in French."),
        "{}",
        now["MEMORY.md"]
    );

    // Both sides changed one memory: both kept, and said so.
    let mut f = now[&edited].clone();
    f.push_str("- Written in the folder.\n");
    std::fs::write(folder.join(&edited), &f).unwrap();
    let put = h
        .cmd(&[
            "put",
            "-s",
            &store,
            &format!("/{edited}"),
            "--content",
            "- Written in the store.\n",
        ])
        .output()
        .unwrap();
    assert!(
        put.status.success(),
        "{}",
        String::from_utf8_lossy(&put.stderr)
    );
    let both = sync(&["--no-dream"]);
    let r = &both["projects"][0]["read_back"][0]["read"][0];
    assert_eq!(r["change"], "conflict", "{both:#}");
    let kept = r["memory"].as_str().unwrap();
    assert!(get(kept).unwrap().ends_with("- Written in the folder.\n"));
    assert_eq!(
        get(&format!("/{edited}")).unwrap(),
        "- Written in the store.\n"
    );
    let now = files_of(&folder);
    assert!(now[&edited].ends_with("- Written in the store.\n"));
    assert!(now[kept.trim_start_matches('/')].ends_with("- Written in the folder.\n"));

    // Any earlier export comes back: the store restored to its revision, then a sync.
    let out = h
        .cmd(&["restore", "-s", &store, "--revision", &revision.to_string()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    sync(&["--no-dream"]);
    assert_eq!(
        files_of(&folder),
        exported,
        "the folder as the first export left it"
    );
}

/// Another process holding the database's write lock (a long dream's commit): the session's
/// start is not held up (its context served, the serving not recorded, and said so in the
/// log), and a session that ends meanwhile is brought in once the lock is released — nothing
/// lost.
#[test]
fn a_locked_database_holds_up_no_session_and_loses_nothing() {
    let h = Home::new();
    let repo = h.path("work/app");
    std::fs::create_dir_all(&repo).unwrap();
    git(&repo, "git init -q && git commit -q --allow-empty -m init");
    let t1 = h.path("one.txt");
    std::fs::write(
        &t1,
        "User: from now on, run `make lint` before pushing.\nAssistant: Will do.\n",
    )
    .unwrap();
    h.event(&ev("SessionEnd", &repo, &t1, json!({"reason": "other"})));
    let store = h.stores()[0]["id"].as_str().unwrap().to_string();
    let sessions = |h: &Home| {
        let v = h.json(&["sessions", "ls", "-s", &store]);
        v.as_array()
            .or_else(|| v["data"].as_array())
            .map_or(0, Vec::len)
    };
    assert_eq!(sessions(&h), 1);

    // A writer takes the database and keeps it for a while.
    let mut writer = Command::new(reverie_testkit::python())
        .args([
            "-c",
            "import sqlite3, sys, time\n\
             c = sqlite3.connect(sys.argv[1], isolation_level=None)\n\
             c.execute('BEGIN IMMEDIATE')\n\
             print('locked', flush=True)\n\
             time.sleep(float(sys.argv[2]))\n\
             c.execute('COMMIT')\n",
            &h.database,
            "8",
        ])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(writer.stdout.as_mut().unwrap()),
        &mut line,
    )
    .unwrap();
    assert_eq!(line.trim(), "locked");

    let start = h.hook(
        ev("SessionStart", &repo, &t1, json!({"source": "startup"}))
            .to_string()
            .as_bytes(),
    );
    assert!(
        writer.try_wait().unwrap().is_none(),
        "the session's start waited for the writer"
    );
    let context: Value = serde_json::from_slice(&start.stdout).unwrap();
    assert!(
        context["hookSpecificOutput"]["additionalContext"]
            .as_str()
            .unwrap()
            .contains("[instructions.md]"),
        "the store's context, served: {context}"
    );
    assert!(h.log().contains("busy with a writer"), "{}", h.log());

    // A session ends while the lock is held: the hook returns, the work waits for the lock.
    let t2 = h.path("two.txt");
    std::fs::write(
        &t2,
        "User: the staging database is on port 6543 now.\nAssistant: Noted.\n",
    )
    .unwrap();
    h.hook(
        ev("SessionEnd", &repo, &t2, json!({"reason": "other"}))
            .to_string()
            .as_bytes(),
    );
    assert!(
        writer.try_wait().unwrap().is_none(),
        "the session's end waited for the writer"
    );
    assert!(writer.wait().unwrap().success());
    reverie_testkit::claude_code_settled(&h.path("state"));
    assert_eq!(
        sessions(&h),
        2,
        "the session ended during the lock is in: {}",
        h.log()
    );
}

/// `reverie worker --claude-code` sweeps at each pass as `claude-code sync` does: the
/// transcripts in, the store dreamed, the memory folder exported.
#[test]
fn the_worker_sweeps_claude_code_at_each_pass() {
    let h = Home::new();
    let repo = h.path("work/app");
    std::fs::create_dir_all(&repo).unwrap();
    git(&repo, "git init -q && git commit -q --allow-empty -m init");
    let slug = reverie_testkit::claude_project_folder(&repo);
    let projects = h.path("home/.claude/projects");
    relocated(
        &real_transcript(),
        &repo,
        &projects.join(&slug).join("t.jsonl"),
    );
    let pass = || {
        let out = h
            .cmd(&["--json", "worker", "--once", "--claude-code"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice::<Value>(&out.stdout).unwrap()["claude_code"].clone()
    };
    let first = pass();
    assert_eq!(first["projects"][0]["sessions_created"], 1, "{first:#}");
    assert_eq!(first["dreams"].as_array().unwrap().len(), 1, "{first:#}");
    assert_eq!(first["exports"].as_array().unwrap().len(), 1, "{first:#}");
    assert!(projects.join(&slug).join("memory/MEMORY.md").is_file());
    // A second process has no memory of the first's pass: the transcript is checked again and
    // found unchanged.
    let second = pass();
    assert_eq!(second["projects"][0]["unchanged"], 1, "{second:#}");
}

/// The configuration keys projects otherwise: by folder (`key = "path"`: a worktree is a
/// project of its own), and a folder named as a project of its own.
#[test]
fn the_configuration_says_what_a_project_is() {
    let h = Home::new();
    let repo = h.path("work/app");
    std::fs::create_dir_all(&repo).unwrap();
    git(
        &repo,
        "git init -q && git commit -q --allow-empty -m init && git worktree add -q ../app-wt 2>/dev/null",
    );
    let config = h.path("home/.config/reverie/config.toml");
    std::fs::create_dir_all(config.parent().unwrap()).unwrap();
    let named = h.path("work/notes");
    std::fs::create_dir_all(named.join("deep")).unwrap();
    std::fs::write(
        &config,
        format!(
            "[claude_code]\nkey = \"path\"\n\n[claude_code.projects]\n{:?} = \"notes\"\n",
            named.display().to_string()
        ),
    )
    .unwrap();
    let t = h.path("t.txt");
    std::fs::write(&t, "User: hello\nAssistant: hi\n").unwrap();
    for cwd in [repo.clone(), h.path("work/app-wt"), named.join("deep")] {
        h.event(&ev("SessionEnd", &cwd, &t, json!({})));
    }
    // Claude Code keeps one memory folder for the worktrees of a repository: the worktree's
    // store, a project of its own now, does not export over the main folder's.
    let log = h.log();
    assert_eq!(log.lines().count(), 1, "{log}");
    assert!(
        log.contains("is the memory folder of another store"),
        "{log}"
    );
    let stores = h.stores();
    let identities: Vec<&str> = stores
        .iter()
        .map(|s| s["metadata"]["claude_code_project"].as_str().unwrap())
        .collect();
    assert_eq!(stores.len(), 3, "{identities:?}");
    assert!(identities.contains(&"name:notes"), "{identities:?}");
    assert_eq!(
        identities.iter().filter(|i| i.starts_with("path:")).count(),
        2,
        "{identities:?}"
    );
    // A configuration that cannot be read: the hook still works, and says why in its log.
    std::fs::write(&config, "[claude_code]\nkey = \"sideways\"\n").unwrap();
    h.event(&ev("SessionEnd", &repo, &t, json!({})));
    assert!(
        h.log().contains("configuration could not be read"),
        "{}",
        h.log()
    );
}

/// A project moved: its store stays its own. Sessions from before the move that no hook brought
/// in (their folder is gone, so it cannot say what it was) go to the store its other sessions
/// from the same Claude Code folder went to; sessions in the new place are found by the
/// repository; the memory is exported where Claude Code now looks.
#[test]
fn a_moved_project_keeps_its_store() {
    let h = Home::new();
    let data = reverie_testkit::repo_root().join("../shared/data/transcripts");
    let mut real: Vec<PathBuf> = std::fs::read_dir(&data)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .is_some_and(|f| f.to_string_lossy().starts_with("marot__spotter"))
                && p.extension().is_some_and(|x| x == "jsonl")
        })
        .collect();
    real.sort();
    let old = h.path("work/old");
    std::fs::create_dir_all(&old).unwrap();
    git(&old, "git init -q && git commit -q --allow-empty -m init");
    let projects = h.path("home/.claude/projects");
    let folder = |p: &Path| projects.join(reverie_testkit::claude_project_folder(p));
    relocated(&real[0], &old, &folder(&old).join("a.jsonl"));
    let sync = || {
        let out = h
            .cmd(&["--json", "claude-code", "sync", "--no-dream"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice::<Value>(&out.stdout).unwrap()
    };
    let first = sync();
    assert_eq!(first["projects"].as_array().unwrap().len(), 1, "{first:#}");
    let store = first["projects"][0]["store_id"].clone();

    let new = h.path("work/new");
    std::fs::rename(&old, &new).unwrap();
    // A session cut short before the move, never brought in; one in the new place.
    relocated(&real[1], &old, &folder(&old).join("b.jsonl"));
    relocated(&real[2], &new, &folder(&new).join("c.jsonl"));
    let second = sync();
    let ps = second["projects"].as_array().unwrap();
    assert_eq!(ps.len(), 1, "one store for the moved project: {second:#}");
    assert_eq!(ps[0]["store_id"], store, "{second:#}");
    assert_eq!(ps[0]["sessions_created"], 2, "{second:#}");
    assert_eq!(h.stores().len(), 1);
    assert!(
        folder(&new).join("memory/MEMORY.md").is_file(),
        "{second:#}"
    );
    let exports = second["exports"].as_array().unwrap();
    assert_eq!(
        exports.len(),
        1,
        "only where Claude Code now looks: {second:#}"
    );
    assert_eq!(
        exports[0]["export"]["folder"],
        json!(folder(&new).join("memory")),
        "{second:#}"
    );
}

//! The real `reverie` binary, run in a temporary folder as a user would run it.

use serde_json::Value;

mod common;

use common::Env;

#[test]
fn tour_prints_what_changed_and_the_resulting_memory() {
    let env = Env::new(false);
    let out = env.ok(&["tour"]);
    for section in [
        "1. An agent session writes its notes",
        "3. A later session goes wrong",
        "-- Build with `cargo build --release --locked`.",
        "+- Build with `make all`.",
        "restored to revision 5 as revision 8: 1 recreated, 1 modified, 0 deleted",
        "integrity check: consistent",
        "6. The resulting memory",
    ] {
        assert!(out.contains(section), "missing {section:?} in:\n{out}");
    }
    let memory = out.split("== 6. The resulting memory").nth(1).unwrap();
    assert!(
        memory.contains("- Build with `cargo build --release --locked`."),
        "the rollback restored build.md"
    );
    assert!(
        memory.contains("--- /testing.md"),
        "the rollback restored testing.md"
    );
    assert!(!memory.contains("make all"));
    // Run twice: the sample store is replaced, not duplicated.
    let summary = env.json(&["tour"]);
    assert_eq!(summary["revision"], 8);
    assert_eq!(summary["consistent"], true);
    let stores = env.json(&["store", "ls"]);
    assert_eq!(stores.as_array().unwrap().len(), 1);
}

#[test]
fn tour_never_replaces_a_users_store() {
    let env = Env::new(false);
    env.ok(&["store", "create", "reverie-tour"]);
    env.fails(&["tour"], 2, "is not a tour sample");
}

fn memory_round(env: &Env) {
    let store = env.json(&[
        "store",
        "create",
        "notes",
        "--description",
        "my notes",
        "--metadata",
        "owner=ana",
    ]);
    let id = store["id"].as_str().unwrap().to_string();
    assert!(id.starts_with("memstore_"));
    assert_eq!(store["metadata"]["owner"], "ana");

    let created = env.json(&["put", "-s", "notes", "/a/b.md", "--content", "one\n"]);
    assert_eq!(created["type"], "memory");
    assert_eq!(created["content"], Value::Null);
    let mem = created["id"].as_str().unwrap().to_string();
    let sha = created["content_sha256"].as_str().unwrap().to_string();
    // Standard input, and an optimistic update.
    let out = env.piped(&["put", "-s", &id, "/a/b.md", "--if-sha", &sha], b"two\n");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    env.fails(
        &[
            "put",
            "-s",
            "notes",
            "/a/b.md",
            "--content",
            "x",
            "--if-sha",
            &sha,
        ],
        4,
        "precondition failed",
    );
    assert_eq!(env.ok(&["get", "-s", "notes", "/a/b.md"]), "two\n");
    assert_eq!(env.ok(&["get", "-s", "notes", &mem]), "two\n");

    let listed = env.json(&["ls", "-s", "notes", "--depth", "1"]);
    assert_eq!(
        listed,
        serde_json::json!([{"type": "memory_prefix", "path": "/a/"}])
    );
    env.ok(&["mv", "-s", "notes", "/a/b.md", "/c.md"]);
    let moved = env.json(&["get", "-s", "notes", "/c.md"]);
    assert_eq!(moved["id"], mem.as_str());

    let log = env.json(&["log", "-s", "notes", "/c.md"]);
    let ops: Vec<&str> = log
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["operation"].as_str().unwrap())
        .collect();
    assert_eq!(ops, ["modified", "modified", "created"]);
    let first_version = log[2]["id"].as_str().unwrap().to_string();
    assert_eq!(
        env.ok(&["get", "-s", "notes", "/c.md", "--version", &first_version]),
        "one\n"
    );
    let diff = env.ok(&["diff", "-s", "notes", "/c.md", "--from", &first_version]);
    assert!(diff.contains("-one") && diff.contains("+two"), "{diff}");
    let revisions = env.json(&["log", "-s", "notes"]);
    assert_eq!(revisions.as_array().unwrap().len(), 3);

    env.ok(&["rm", "-s", "notes", "/c.md"]);
    env.fails(&["get", "-s", "notes", "/c.md"], 3, "not found");
    let report = env.json(&["restore", "-s", "notes", "--revision", "1"]);
    assert_eq!(report["recreated"].as_array().unwrap().len(), 1);
    assert_eq!(env.ok(&["get", "-s", "notes", "/a/b.md"]), "one\n");
    let report = env.json(&[
        "restore",
        "-s",
        "notes",
        &mem,
        "--version",
        log[0]["id"].as_str().unwrap(),
    ]);
    assert_eq!(report["modified"].as_array().unwrap().len(), 1);
    assert_eq!(env.ok(&["get", "-s", "notes", "/c.md"]), "two\n");
    let changes = env.json(&["diff", "-s", "notes", "--revision", "1..3"]);
    assert_eq!(changes[0]["change"], "modified");

    let check = env.json(&["store", "check", "notes"]);
    assert_eq!(check["problems"], serde_json::json!([]));
    env.ok(&["store", "archive", "notes"]);
    env.fails(
        &["put", "-s", "notes", "/d", "--content", "x"],
        4,
        "archived",
    );
    env.fails(&["store", "delete", "notes"], 2, "pass --yes");
    env.ok(&["store", "delete", "notes", "--yes"]);
    env.fails(&["store", "show", &id], 3, "not found");
}

#[test]
fn memory_commands_on_sqlite() {
    memory_round(&Env::new(false));
}

#[test]
fn memory_commands_on_postgres() {
    memory_round(&Env::new(true));
}

#[test]
fn memory_tool_single_and_batch() {
    let env = Env::new(false);
    env.ok(&["store", "create", "agent"]);
    let out = env.ok(&[
        "memory-tool",
        "-s",
        "agent",
        r#"{"command":"create","path":"/memories/x.md","file_text":"a\nb\n"}"#,
    ]);
    assert_eq!(out, "File created successfully at: /memories/x.md\n");
    let out = env.run(&[
        "memory-tool",
        "-s",
        "agent",
        r#"{"command":"view","path":"/memories/nope"}"#,
    ]);
    assert_eq!(out.status.code(), Some(5), "a tool error exits 5");
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "The path /memories/nope does not exist. Please provide a valid path.\n"
    );
    env.fails(
        &["memory-tool", "-s", "agent", r#"{"command":"fly"}"#],
        2,
        "unknown variant `fly`",
    );
    env.fails(
        &["memory-tool", "-s", "agent", "{not json"],
        2,
        "memory tool command",
    );

    let input = concat!(
        r#"{"command":"view","path":"/memories/x.md","view_range":[2,2]}"#,
        "\n",
        "garbage\n",
        r#"{"command":"rename","old_path":"/memories/x.md","new_path":"/memories/y.md"}"#,
        "\n"
    );
    let out = env.piped(&["memory-tool", "-s", "agent", "--batch"], input.as_bytes());
    // The stream went on past the bad line, and the exit status says one failed.
    assert_eq!(out.status.code(), Some(5));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("1 command of the batch answered with an error")
    );
    let lines: Vec<Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(
        lines[0]["content"],
        "Here's the content of /memories/x.md with line numbers:\n     2\tb"
    );
    assert_eq!(lines[1]["is_error"], true);
    assert_eq!(
        lines[2]["content"],
        "Successfully renamed /memories/x.md to /memories/y.md"
    );
    assert_eq!(env.ok(&["get", "-s", "agent", "/y.md"]), "a\nb\n");
}

#[test]
fn bad_input_gets_clear_errors_and_exit_codes() {
    let env = Env::new(false);
    env.ok(&["store", "create", "s"]);
    env.fails(
        &["put", "-s", "s", "relative.md", "--content", "x"],
        2,
        "must start with \"/\"",
    );
    env.fails(
        &["put", "-s", "s", "/a\u{7}", "--content", "x"],
        2,
        "U+0007",
    );
    env.fails(
        &["get", "-s", "nope", "/x"],
        3,
        "memory store named nope not found",
    );
    env.fails(
        &["get", "-s", "memstore_../etc", "/x"],
        2,
        "is not a memory store id",
    );
    env.fails(&["get", "-s", "s", "x.md"], 2, "neither a path");
    let big = env.dir.path().join("big.md");
    std::fs::write(&big, "x".repeat(102_401)).unwrap();
    env.fails(
        &["put", "-s", "s", "/big", "--file", big.to_str().unwrap()],
        2,
        "102401 bytes",
    );
    let binary = env.dir.path().join("bin.dat");
    std::fs::write(&binary, [0x66, 0x6f, 0xff, 0xfe]).unwrap();
    env.fails(
        &["put", "-s", "s", "/bin", "--file", binary.to_str().unwrap()],
        2,
        "bin.dat is not UTF-8 text (invalid byte at offset 2)",
    );
    env.fails(
        &["put", "-s", "s", "/missing", "--file", "no-such-file"],
        1,
        "cannot read no-such-file",
    );
    env.ok(&["put", "-s", "s", "/once", "--content", "x"]);
    env.fails(
        &["put", "-s", "s", "/once", "--content", "y", "--create-only"],
        4,
        "already taken",
    );
    env.fails(
        &["restore", "-s", "s", "--revision", "99"],
        2,
        "must be 0 to",
    );
    env.fails(&["--actor", "robot:x", "store", "ls"], 2, "unknown kind");
    // Nothing above wrote anything.
    let revs = env.json(&["log", "-s", "s"]);
    assert_eq!(revs.as_array().unwrap().len(), 1);
    // Two stores with one name: refer by id.
    env.ok(&["store", "create", "s"]);
    env.fails(&["ls", "-s", "s"], 2, "2 stores are named \"s\"; use an id");
}

#[test]
fn database_location_flag_env_and_default() {
    let env = Env::new(false);
    // The default lives under XDG_DATA_HOME.
    let data = env.dir.path().join("xdg");
    let out = env
        .cmd(&["store", "create", "d"])
        .env_remove("REVERIE_DATABASE_URL")
        .env("XDG_DATA_HOME", &data)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(data.join("reverie/reverie.db").exists());
    // The flag wins over the environment.
    let other = env.dir.path().join("other.db");
    env.ok(&[
        "--database",
        other.to_str().unwrap(),
        "store",
        "create",
        "o",
    ]);
    assert!(other.exists());
    assert_eq!(
        env.json(&["store", "ls"]).as_array().unwrap().len(),
        0,
        "the env database was not touched"
    );
    // A folder where the file should be is refused by name.
    let folder = env.dir.path().join("a-folder");
    std::fs::create_dir(&folder).unwrap();
    env.fails(
        &["--database", folder.to_str().unwrap(), "store", "ls"],
        1,
        "it is a directory",
    );
}

/// One secrets policy for what is written directly: `put` and the memory tool refuse a secret
/// (also hidden by zero-width characters or split by a space), name its kind, write nothing.
#[test]
fn written_secrets_are_refused_whole() {
    let env = Env::new(false);
    env.ok(&["store", "create", "s"]);
    let key = "sk-ant-api03-Zq3vT9xLm2Rk8Wb4Yp7Nc1Hd6Fj0Gs5Ae3Ui9Ko2Xw4Tb8Vn6Ym1Qp7Rs3Lk";
    env.fails(
        &[
            "put",
            "-s",
            "s",
            "/a.md",
            "--content",
            &format!("- token {key}"),
        ],
        2,
        "looks like a secret (anthropic)",
    );
    let hidden: String = key.chars().flat_map(|c| [c, '\u{200b}']).collect();
    let (a, b) = key.split_at(20);
    for text in [hidden, format!("{a} {b}")] {
        let cmd = serde_json::json!({"command": "create", "path": "/memories/b.md", "file_text": format!("- {text}\n")});
        let out = env.run(&["memory-tool", "-s", "s", &cmd.to_string()]);
        assert_eq!(out.status.code(), Some(5), "{text}");
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("looks like a secret"),
            "{}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
    assert!(
        !env.ok(&["ls", "-s", "s"]).contains(".md"),
        "nothing was written"
    );
    // An ordinary note goes through.
    env.ok(&[
        "put",
        "-s",
        "s",
        "/a.md",
        "--content",
        "- tests need PostgreSQL 15\n",
    ]);
    // The same policy on a store's own fields, a session's note and a key's name.
    env.fails(
        &[
            "store",
            "create",
            "t",
            "--description",
            &format!("uses {key}"),
        ],
        2,
        "invalid description: holds what looks like a secret",
    );
    env.fails(
        &[
            "store",
            "update",
            "s",
            "--metadata",
            &format!("token={key}"),
        ],
        2,
        "invalid metadata: holds what looks like a secret",
    );
    let run = env.write("run.txt", "User: hello\nAssistant: hi\n");
    env.fails(
        &[
            "ingest",
            "-s",
            "s",
            &run,
            "--outcome",
            "success",
            "--note",
            &format!("key {key}"),
        ],
        2,
        "invalid note: holds what looks like a secret",
    );
    env.fails(
        &["keys", "create", key, "--all"],
        2,
        "invalid name: holds what looks like a secret",
    );
    let shown = env.ok(&["store", "show", "s"]);
    assert!(!shown.contains("sk-ant-"), "{shown}");
    // The refusal names the policy that allows it; once allowed, memory content keeps the
    // secret as written (put and the memory tool), and the store's own fields still refuse it.
    env.fails(
        &["put", "-s", "s", "/c.md", "--content", &format!("- {key}")],
        2,
        "reverie policy set --secrets allow",
    );
    env.ok(&["policy", "set", "-s", "s", "--secrets", "allow"]);
    assert!(
        env.ok(&["policy", "show", "-s", "s"])
            .contains("secrets: allowed")
    );
    env.ok(&["put", "-s", "s", "/c.md", "--content", &format!("- {key}")]);
    assert!(env.ok(&["get", "-s", "s", "/c.md"]).contains(key));
    let cmd = serde_json::json!({"command": "create", "path": "/memories/d.md", "file_text": format!("- {key}\n")});
    env.ok(&["memory-tool", "-s", "s", &cmd.to_string()]);
    env.fails(
        &[
            "store",
            "update",
            "s",
            "--description",
            &format!("uses {key}"),
        ],
        2,
        "invalid description: holds what looks like a secret",
    );
    env.fails(
        &["policy", "set", "-s", "s", "--secrets", "maybe"],
        2,
        "is not refuse or allow",
    );
}

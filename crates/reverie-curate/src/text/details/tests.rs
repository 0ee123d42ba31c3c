//! Case tables for [`details`]: per kind, texts in realistic surroundings and the details of
//! that kind they must give (an empty list is a negative case).

use super::*;

/// Asserts that each text's details of `kind` are exactly the expected ones.
fn check(kind: DetailKind, cases: &[(&str, &[&str])]) {
    for (text, expected) in cases {
        let got: Vec<String> = details(text, &[])
            .into_iter()
            .filter(|d| d.kind == kind)
            .map(|d| d.text)
            .collect();
        let mut want: Vec<String> = expected.iter().map(|s| (*s).to_owned()).collect();
        want.sort();
        assert_eq!(got, want, "{kind:?} in {text:?}");
    }
}

#[test]
fn urls() {
    check(
        DetailKind::Url,
        &[
            (
                "See https://docs.rs/regex/latest/regex/ for the syntax.",
                &["https://docs.rs/regex/latest/regex/"],
            ),
            (
                "export DATABASE_URL=postgres://app:secret@localhost:5433/app_test",
                &["postgres://app:secret@localhost:5433/app_test"],
            ),
            (
                "- Cache lives at redis://127.0.0.1:6379/0.",
                &["redis://127.0.0.1:6379/0"],
            ),
            (
                "Clone with `git clone ssh://git@github.com/acme/api.git`",
                &["ssh://git@github.com/acme/api.git"],
            ),
            (
                "Deploy key for git+ssh://deploy@host/repo;",
                &["git+ssh://deploy@host/repo"],
            ),
            (
                "[the docs](https://example.com/a_(b)) and (https://example.com/c).",
                &["https://example.com/a_(b)", "https://example.com/c"],
            ),
            (
                "<https://example.com/x>, \"http://localhost:3000\"",
                &["http://localhost:3000", "https://example.com/x"],
            ),
            ("Hosts file: file:///etc/hosts", &["file:///etc/hosts"]),
            ("Only https:// works", &[]),
            ("www.example.com has no scheme", &[]),
            ("Ratio 3:1 and std::fs are not URLs", &[]),
        ],
    );
}

#[test]
fn paths() {
    check(
        DetailKind::Path,
        &[
            ("Edit /etc/hosts and restart.", &["/etc/hosts"]),
            (
                "Run `./scripts/check.sh --fast` before pushing",
                &["./scripts/check.sh"],
            ),
            (
                "Claude Code keeps transcripts in ~/.claude/projects/x",
                &["~/.claude/projects/x"],
            ),
            (
                "The entry point is src/lib.rs, not src/main.rs.",
                &["src/lib.rs", "src/main.rs"],
            ),
            ("- New crates go in crates/foo/", &["crates/foo/"]),
            ("Goldens: tests/golden/*.json", &["tests/golden/*.json"]),
            ("CI config is in .github/workflows", &[".github/workflows"]),
            (
                "The data is in ../shared/data/locomo",
                &["../shared/data/locomo"],
            ),
            ("error at src/main.rs:42:5", &["src/main.rs"]),
            (
                "cargo run --manifest-path=crates/cli/Cargo.toml",
                &["crates/cli/Cargo.toml"],
            ),
            ("Use tabs and/or spaces", &[]),
            ("Half of 1/2 of the TCP/IP stack", &[]),
            ("Released 12/03/2024", &[]),
            ("See https://example.com/a/b.html", &[]),
            ("The repo is acme/api, with read/write access", &[]),
            ("// a comment, 5MB/s", &[]),
        ],
    );
}

#[test]
fn numbers() {
    check(
        DetailKind::Number,
        &[
            ("The staging database listens on port 5432.", &["5432"]),
            (
                "pi is 3.14; install 1.2.3 or v1.2.3",
                &["1.2.3", "3.14", "v1.2.3"],
            ),
            ("Mask with 0x1F", &["0x1F"]),
            (
                "timeout 10ms, limit 512MB, disk 2GB, coverage 99%",
                &["10ms", "2GB", "512MB", "99%"],
            ),
            (
                "Upgrade to 1.0.0-beta.2 before 2024-01-15 10:00 UTC",
                &["1.0.0-beta.2", "10:00", "2024-01-15"],
            ),
            ("A store has ~2,000 memories", &["2,000"]),
            ("Redis is at localhost:6379", &["6379"]),
            ("Released 12/03/2024, half is 1/2", &["1/2", "12/03/2024"]),
            ("Set `--jobs=4`; -1 means unlimited", &["-1", "4"]),
            ("Retries: 3-5 times", &["3", "5"]),
            ("1. Run the tests\n2) Commit", &[]),
            ("utf8, sha256, E0433 and x86_64 are identifiers", &[]),
            ("It's done. Don't wait!", &[]),
            ("The hash is 3f2a9c1", &[]),
        ],
    );
}

#[test]
fn identifiers() {
    check(
        DetailKind::Identifier,
        &[
            ("Set DATABASE_URL before running", &["DATABASE_URL"]),
            ("Use serde_json, not serde-json", &["serde_json"]),
            (
                "Read files with std::fs::read_to_string.",
                &["std::fs::read_to_string"],
            ),
            (
                "Check os.environ and package.json; Cargo.toml too.",
                &["Cargo.toml", "os.environ", "package.json"],
            ),
            (
                "Call getUser on the HashMap from the iPhone app",
                &["HashMap", "getUser", "iPhone"],
            ),
            ("CI sets PATH; TODO: fix it", &["CI", "PATH", "TODO"]),
            (
                "Run cargo install --locked -p reverie --no-verify",
                &["--locked", "--no-verify", "-p"],
            ),
            (
                "error[E0433]: failed to resolve; TS2304 in tsc",
                &["E0433", "TS2304"],
            ),
            (
                "Encode as utf8, hash with sha256 on x86_64",
                &["sha256", "utf8", "x86_64"],
            ),
            (
                "Secrets live in .env, not .env.example",
                &[".env", ".env.example"],
            ),
            ("Run the CI-only job; text is UTF-8", &["CI", "UTF-8"]),
            ("The hash is 3f2a9c1", &["3f2a9c1"]),
            ("Run the tests before you commit.", &[]),
            ("Postgres is fast. Rust is safe. Always run it", &[]),
            ("I think A is fine", &[]),
            ("Use e.g. this, i.e. that...", &[]),
            ("Use _emphasis_ and __bold__ sparingly", &[]),
            ("Pre-Commit hooks - the user's don't-care flag", &[]),
            ("- Run it - then stop", &[]),
        ],
    );
}

#[test]
fn code() {
    check(
        DetailKind::Code,
        &[
            (
                "Run `cargo test --workspace` first",
                &["cargo test --workspace"],
            ),
            ("Use ``a ` b`` and ` c `", &["a ` b", "c"]),
            (
                "```bash\ncargo build --release\ncargo test\n```\nthen push",
                &["cargo build --release\ncargo test"],
            ),
            ("~~~\n  SELECT 1;\n~~~\n`after`", &["SELECT 1;", "after"]),
            ("```cargo fmt``` inline", &["cargo fmt"]),
            ("```\nmake check", &["make check"]),
            ("a stray ` backtick", &[]),
            ("an empty ` ` span", &[]),
            ("```\n\n```", &[]),
            ("plain prose", &[]),
        ],
    );
}

#[test]
fn quotations() {
    let long = "x".repeat(200);
    let too_long = "x".repeat(201);
    let at_limit = format!("\"{long}\"");
    let over_limit = format!("\"{too_long}\"");
    check(
        DetailKind::Quoted,
        &[
            ("Say \"hello world\" to start", &["hello world"]),
            (
                "The error was 'connection refused'.",
                &["connection refused"],
            ),
            (
                "Curly “smart quotes” and ‘single ones’",
                &["single ones", "smart quotes"],
            ),
            ("Don't say 'never' to the user's boss", &["never"]),
            ("It’s the user’s ‘main’ branch", &["main"]),
            ("The users' settings and 'x'", &["x"]),
            ("'don't panic'", &["don't panic"]),
            ("Run echo '{\"a\": 1}'", &["a", "{\"a\": 1}"]),
            (&at_limit, &[long.as_str()]),
            (&over_limit, &[]),
            ("don't, it's, the user's", &[]),
            ("A 5\" screen, 6' tall", &[]),
            ("\"unclosed quote", &[]),
            ("\"\" and ''", &[]),
            ("\"across\nlines\"", &[]),
        ],
    );
}

#[test]
fn terms() {
    let glossary = ["dream", "memory store", "C++", "LSH"];
    let cases: &[(&str, &[&str])] = &[
        ("The Dream runs nightly", &["dream"]),
        ("Each Memory  Store has a budget", &["memory store"]),
        ("written in c++, LSH-based", &["C++", "LSH"]),
        ("dreams and daydream", &[]),
        ("one memory-store, a memory, store", &[]),
        ("C+ + is not C++ spaced", &["C++"]),
        ("nothing here", &[]),
    ];
    for (text, expected) in cases {
        let got: Vec<String> = details(text, &glossary)
            .into_iter()
            .filter(|d| d.kind == DetailKind::Term)
            .map(|d| d.text)
            .collect();
        let mut want: Vec<String> = expected.iter().map(|s| (*s).to_owned()).collect();
        want.sort();
        assert_eq!(got, want, "{text:?}");
    }
}

/// Asserts that `text` has exactly the `expected` details, in their set order.
fn check_all(text: &str, terms: &[&str], expected: &[(DetailKind, &str)]) {
    let got: Vec<(DetailKind, String)> = details(text, terms)
        .into_iter()
        .map(|d| (d.kind, d.text))
        .collect();
    let want: Vec<(DetailKind, String)> =
        expected.iter().map(|&(k, t)| (k, t.to_owned())).collect();
    assert_eq!(got, want, "{text:?}");
}

#[test]
fn code_is_also_scanned_for_other_kinds() {
    use DetailKind::*;
    check_all(
        "- Run `cat ./src/main.rs` on port 8080",
        &[],
        &[
            (Number, "8080"),
            (Path, "./src/main.rs"),
            (Code, "cat ./src/main.rs"),
        ],
    );
    check_all(
        "```sh\nexport DATABASE_URL=postgres://x/y\n```",
        &["postgres"],
        &[
            (Identifier, "DATABASE_URL"),
            (Url, "postgres://x/y"),
            (Code, "export DATABASE_URL=postgres://x/y"),
            (Term, "postgres"),
        ],
    );
}

#[test]
fn a_lesson_keeps_its_error_and_fix() {
    use DetailKind::*;
    check_all(
        "When `cargo build` fails with E0433 unresolved crate serde_json, run `cargo add serde_json`.",
        &[],
        &[
            (Identifier, "E0433"),
            (Identifier, "serde_json"),
            (Code, "cargo add serde_json"),
            (Code, "cargo build"),
        ],
    );
    check_all(
        "* **Never** use `git push --force` on `main`; the user said \"ask first\".",
        &[],
        &[
            (Identifier, "--force"),
            (Code, "git push --force"),
            (Code, "main"),
            (Quoted, "ask first"),
        ],
    );
}

#[test]
fn kinds_serialize_in_snake_case() {
    let d = Detail {
        kind: DetailKind::Identifier,
        text: "CI".to_owned(),
    };
    let json = serde_json::to_string(&d).expect("serialize");
    assert_eq!(json, r#"{"kind":"identifier","text":"CI"}"#);
    assert_eq!(
        serde_json::from_str::<Detail>(&json).expect("deserialize"),
        d
    );
}

proptest::proptest! {
    #[test]
    fn details_never_panic_and_are_deterministic(
        text in r#"([a-zA-Z0-9_ `*./:~'"“”‘’(),;=@%!?-]|\n|é|日){0,120}"#,
        other in proptest::prelude::any::<String>(),
    ) {
        let found = details(&text, &["dream", "C++"]);
        proptest::prop_assert_eq!(&found, &details(&text, &["dream", "C++"]));
        for d in &found {
            proptest::prop_assert!(!d.text.is_empty());
        }
        details(&other, &["x y", ""]);
    }

    /// The scanner skips the rules for what it calls plain words; they must have nothing to
    /// find in one. Tokens near plain words (a capital inside, a digit, a separator) test
    /// that the shortcut takes no more than it should.
    #[test]
    fn plain_words_have_no_details(
        word in "[A-Za-z][a-z]{0,15}",
        near in "[A-Za-z][a-zA-Z0-9_.:-]{0,6}",
    ) {
        for token in [&word, &near] {
            let mut out = BTreeSet::new();
            scan::token_rules(token, 0, &mut out);
            if scan::is_plain_word(token) {
                proptest::prop_assert!(out.is_empty(), "{:?} in {:?}", out, token);
            }
        }
        proptest::prop_assert!(scan::is_plain_word(&word));
    }
}

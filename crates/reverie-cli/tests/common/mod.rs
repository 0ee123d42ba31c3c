//! What the CLI tests share: a scratch database — a SQLite file in a temporary folder, or a
//! fresh database on the tests' PostgreSQL cluster — and the real `reverie` binary run against
//! it as a user runs it, from that folder.

// Each test file uses a part of this.
#![allow(dead_code)]

use std::io::Write;
use std::process::{Command, Output, Stdio};

use serde_json::Value;

pub struct Env {
    pub dir: tempfile::TempDir,
    pub database: String,
}

impl Env {
    pub fn new(postgres: bool) -> Env {
        let dir = tempfile::tempdir().unwrap();
        let database = if postgres {
            reverie_testkit::pg::fresh_database()
        } else {
            dir.path().join("reverie.db").display().to_string()
        };
        Env { dir, database }
    }

    /// `reverie ARGS` on the scratch database, as user `tester`, with no store or actor set
    /// by the caller's environment.
    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_reverie"));
        c.args(args)
            .current_dir(self.dir.path())
            .env("REVERIE_DATABASE_URL", &self.database)
            .env("USER", "tester")
            .env_remove("REVERIE_STORE")
            .env_remove("REVERIE_ACTOR");
        c
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.cmd(args).stdin(Stdio::null()).output().unwrap()
    }

    /// Runs and requires success; the standard output.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "{args:?} failed ({:?}): {}{}",
            out.status.code(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// `reverie --json ARGS`, parsed.
    pub fn json(&self, args: &[&str]) -> Value {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        serde_json::from_str(&self.ok(&all)).unwrap()
    }

    /// Runs and requires exit `code` with `needle` in the standard error.
    pub fn fails(&self, args: &[&str], code: i32, needle: &str) -> Output {
        let out = self.run(args);
        let stderr = String::from_utf8_lossy(&out.stderr).to_string();
        assert_eq!(out.status.code(), Some(code), "{args:?}: {stderr}");
        assert!(
            stderr.contains(needle),
            "{args:?}: stderr {stderr:?} lacks {needle:?}"
        );
        out
    }

    /// Runs with `input` on the standard input.
    pub fn piped(&self, args: &[&str], input: &[u8]) -> Output {
        let mut child = self
            .cmd(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(input).unwrap();
        child.wait_with_output().unwrap()
    }

    /// Writes a file into the scratch folder; its path.
    pub fn write(&self, name: &str, text: &str) -> String {
        let p = self.dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p.display().to_string()
    }
}

/// `both!(f, g)`: for each function of a `postgres: bool`, a module with a `sqlite` and a
/// `postgres` test.
#[macro_export]
macro_rules! both {
    ($($name:ident),+ $(,)?) => {$(
        mod $name {
            #[test]
            fn sqlite() {
                super::$name(false);
            }
            #[test]
            fn postgres() {
                super::$name(true);
            }
        }
    )+};
}

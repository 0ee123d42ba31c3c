//! `cargo bench -p reverie-cli --bench serving`: `reverie bench recall` on both backends — a
//! scratch SQLite file, then a database on a throwaway durable PostgreSQL cluster started by
//! the test kit — so that the PostgreSQL figures need no server set up by hand. Arguments after
//! `--` go to `reverie bench recall` (e.g. `-- --queries 300`).

use std::process::Command;

fn run(database: Option<&str>, args: &[String]) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_reverie"));
    if let Some(url) = database {
        cmd.args(["--database", url]);
    }
    cmd.args(["bench", "recall"]).args(args);
    let status = cmd.status().expect("reverie runs");
    assert!(status.success(), "reverie bench recall failed: {status}");
}

fn main() {
    // cargo bench passes `--bench`; the rest is for reverie.
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    println!("== SQLite");
    run(None, &args);
    println!("\n== PostgreSQL 15 (durable: fsync and synchronous_commit on)");
    let url = reverie_testkit::pg::fresh_durable_database();
    run(Some(&url), &args);
}

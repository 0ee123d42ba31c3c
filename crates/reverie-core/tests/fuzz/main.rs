//! Property-based fuzz tests of reverie-core's parsers and validators: whatever a client, a
//! model or a policy file sends, they never panic, finish in time, and either accept the input
//! with the properties their docs promise (round trips, idempotence, agreement with a simple
//! reference implementation) or refuse it with an error naming the problem.
//!
//! - `entry`: the memory markdown parser and editor (`reverie_core::entry`).
//! - `path`: memory paths and listing prefixes (`reverie_core::path`), and the memory tool's
//!   mapping of its paths onto them.
//! - `memtool`: the memory-tool command parser (`Command::parse`/`from_value`) and commands
//!   run against an in-memory store.
//! - `policy`: policy deserialization and validation, glob matching (against a reference
//!   matcher, and in linear time), cron schedules.
//!
//! `REVERIE_FUZZ_CASES=N` runs N cases per property instead of the CI default (FUZZING.md).

mod entry;
mod memtool;
mod path;
mod policy;

use proptest::test_runner::Config;

/// The proptest config of a property: `default` cases (sized for CI: each property well under
/// 20 s in a debug build on 2 cores), or `REVERIE_FUZZ_CASES` when set.
pub fn config(default: u32) -> Config {
    Config {
        cases: cases(default),
        failure_persistence: None,
        max_global_rejects: 1_000_000,
        ..Config::default()
    }
}

/// `REVERIE_FUZZ_CASES`, or `default`.
pub fn cases(default: u32) -> u32 {
    std::env::var("REVERIE_FUZZ_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(default)
}

//! Unit tests of shingles, signatures and Jaccard.

use proptest::prelude::*;

use super::*;

#[test]
fn shingles_are_hashed_subject_words() {
    fn check(text: &str, expected: &[&str]) {
        let want: BTreeSet<u64> = expected.iter().map(|w| hash(w)).collect();
        assert_eq!(shingles(text), want, "{text:?}");
    }
    check(
        "Run cargo fmt before committing.",
        &["cargo", "fmt", "commit"],
    );
    check(
        "- **Always** run `cargo fmt` before you commit!",
        &["cargo", "fmt", "commit"],
    );
    check(
        "The staging database listens on port 5432",
        &["stag", "databas", "listen", "port", "5432"],
    );
    check("Do it now.", &["do", "it", "now"]);
    check("", &[]);
    check("?!", &[]);
}

#[test]
fn hash_is_fixed() {
    // The first 8 bytes of blake3("cargo"), little-endian: fixed on every platform and run.
    let digest = blake3::hash(b"cargo");
    let want = u64::from_le_bytes(digest.as_bytes()[..8].try_into().expect("8 bytes"));
    assert_eq!(hash("cargo"), want);
    assert_ne!(hash("cargo"), hash("Cargo"));
}

#[test]
fn permutations_are_valid_and_distinct() {
    let mut seen = BTreeSet::new();
    for &(a, b) in &PERMUTATIONS {
        assert!((1..PRIME).contains(&a) && b < PRIME, "({a}, {b})");
        assert!(seen.insert(a), "repeated multiplier {a}");
    }
}

#[test]
fn mod_prime_matches_remainder() {
    let p = u128::from(PRIME);
    for x in [
        0,
        1,
        p - 1,
        p,
        p + 1,
        2 * p,
        u128::from(u64::MAX),
        (p - 1) * (p - 1) + (p - 1),
    ] {
        assert_eq!(u128::from(mod_prime(x)), x % p, "{x}");
    }
}

#[test]
fn signatures_are_deterministic() {
    let text = "Integration tests need DATABASE_URL pointing at a running Postgres.";
    assert_eq!(signature(text), signature(text));
    assert_eq!(signature(text), signature(&text.to_uppercase()));
    assert_ne!(signature(text), signature("Format Python code with black."));
    assert_eq!(signature("").similarity(&signature("  ")), 1.0);
    assert_eq!(signature("").similarity(&signature("cargo")), 0.0);
}

#[test]
fn jaccard_cases() {
    fn check(a: &str, b: &str, expected: f64) {
        assert_eq!(jaccard(a, b), expected, "{a:?} / {b:?}");
    }
    check(
        "Run cargo fmt before committing.",
        "Always run `cargo fmt` before you commit.",
        1.0,
    );
    check("cargo fmt", "cargo test", 1.0 / 3.0);
    check("cargo fmt", "python black", 0.0);
    check("", "", 1.0);
    check("", "cargo", 0.0);
}

proptest! {
    #[test]
    fn jaccard_is_reflexive_and_symmetric(a in ".{0,80}", b in "[a-z ]{0,40}") {
        prop_assert_eq!(jaccard(&a, &a), 1.0);
        prop_assert_eq!(jaccard(&a, &b), jaccard(&b, &a));
        let s = jaccard(&a, &b);
        prop_assert!((0.0..=1.0).contains(&s));
        prop_assert_eq!(signature(&a).similarity(&signature(&a)), 1.0);
    }
}

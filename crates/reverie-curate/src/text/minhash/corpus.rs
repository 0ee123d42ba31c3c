//! The labeled corpus (`tests/data/same_subject.tsv`) that chooses [`SAME_SUBJECT`] and checks
//! that signatures and LSH agree with exact Jaccard on it.

use super::*;
use crate::text::Lsh;

/// One labeled pair of entries.
#[derive(Debug)]
struct Pair {
    label: &'static str,
    a: &'static str,
    b: &'static str,
}

impl Pair {
    fn same(&self) -> bool {
        self.label.starts_with("same/")
    }
}

/// The corpus's pairs.
fn corpus() -> Vec<Pair> {
    include_str!("../../../tests/data/same_subject.tsv")
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            assert_eq!(f.len(), 3, "not label<TAB>a<TAB>b: {l:?}");
            assert!(
                ["same/", "diff/"].iter().any(|p| f[0].starts_with(p)),
                "unknown label: {l:?}"
            );
            Pair {
                label: f[0],
                a: f[1],
                b: f[2],
            }
        })
        .collect()
}

/// Precision, recall and F1 of "same subject when similarity ≥ threshold".
fn scores(scored: &[(f64, bool)], threshold: f64) -> (f64, f64, f64) {
    let count = |same: bool, above: bool| {
        scored
            .iter()
            .filter(|&&(s, l)| l == same && (s >= threshold) == above)
            .count() as f64
    };
    let (tp, fp, fnn) = (count(true, true), count(false, true), count(true, false));
    let precision = if tp + fp > 0.0 { tp / (tp + fp) } else { 0.0 };
    let recall = tp / (tp + fnn);
    let f1 = if tp > 0.0 {
        2.0 * precision * recall / (precision + recall)
    } else {
        0.0
    };
    (precision, recall, f1)
}

#[test]
fn corpus_is_large_and_balanced() {
    let pairs = corpus();
    let same = pairs.iter().filter(|p| p.same()).count();
    assert!(pairs.len() >= 60, "{} pairs", pairs.len());
    assert!(
        same >= 25 && pairs.len() - same >= 25,
        "{same} same of {}",
        pairs.len()
    );
    for kind in [
        "same/paraphrase",
        "same/changed",
        "diff/shared",
        "diff/unrelated",
    ] {
        assert!(pairs.iter().any(|p| p.label == kind), "no {kind} pair");
    }
}

#[test]
fn same_subject_maximizes_f1() {
    let pairs = corpus();
    let scored: Vec<(f64, bool)> = pairs
        .iter()
        .map(|p| (jaccard(p.a, p.b), p.same()))
        .collect();
    let sweep: Vec<(f64, f64)> = (0..=100)
        .map(|i| {
            let t = f64::from(i) / 100.0;
            (t, scores(&scored, t).2)
        })
        .collect();
    let best = sweep.iter().map(|&(_, f1)| f1).fold(0.0, f64::max);
    let argmax: Vec<f64> = sweep
        .iter()
        .filter(|&&(_, f1)| f1 == best)
        .map(|&(t, _)| t)
        .collect();
    let (precision, recall, f1) = scores(&scored, SAME_SUBJECT);
    println!(
        "F1-maximizing thresholds {argmax:?} (F1 {best:.3}); at SAME_SUBJECT = {SAME_SUBJECT}: \
         precision {precision:.3}, recall {recall:.3}, F1 {f1:.3}"
    );
    for (p, &(s, _)) in pairs.iter().zip(&scored) {
        if p.same() != (s >= SAME_SUBJECT) {
            println!("  misjudged {} at {s:.3}: {:?} / {:?}", p.label, p.a, p.b);
        }
    }
    assert!(
        argmax.iter().any(|t| (t - SAME_SUBJECT).abs() <= 0.05),
        "SAME_SUBJECT {SAME_SUBJECT} is not within 0.05 of an F1-maximizing threshold {argmax:?}"
    );
    assert_eq!(f1, best, "SAME_SUBJECT must itself maximize F1");
    assert!(precision >= 0.9, "precision {precision}");
    assert!(recall >= 0.9, "recall {recall}");
}

#[test]
fn subject_words_separate_better_than_word_ngrams() {
    // The shinglings the design started from, to keep the reason for subject words on record.
    fn set_jaccard(a: &BTreeSet<String>, b: &BTreeSet<String>) -> f64 {
        let common = a.intersection(b).count();
        common as f64 / (a.len() + b.len() - common).max(1) as f64
    }
    fn trigrams(t: &str) -> BTreeSet<String> {
        let w = crate::text::words(t);
        let mut s = BTreeSet::new();
        if w.len() >= 6 {
            s.extend(w.windows(3).map(|g| g.join(" ")));
        } else {
            s.extend(w.iter().cloned());
            s.extend(w.windows(2).map(|g| g.join(" ")));
        }
        s
    }
    fn plain(t: &str) -> BTreeSet<String> {
        crate::text::words(t).into_iter().collect()
    }
    let pairs = corpus();
    let best_f1 = |f: &dyn Fn(&str, &str) -> f64| {
        let scored: Vec<(f64, bool)> = pairs.iter().map(|p| (f(p.a, p.b), p.same())).collect();
        (0..=100)
            .map(|i| scores(&scored, f64::from(i) / 100.0).2)
            .fold(0.0, f64::max)
    };
    let trigram = best_f1(&|a, b| set_jaccard(&trigrams(a), &trigrams(b)));
    let words = best_f1(&|a, b| set_jaccard(&plain(a), &plain(b)));
    let subject = best_f1(&jaccard);
    println!("best F1: word 3-grams {trigram:.3}, words {words:.3}, subject words {subject:.3}");
    assert!(
        subject > words && words > trigram,
        "{subject} {words} {trigram}"
    );
}

#[test]
fn signatures_estimate_jaccard() {
    for p in corpus() {
        let exact = jaccard(p.a, p.b);
        let estimate = signature(p.a).similarity(&signature(p.b));
        assert!(
            (exact - estimate).abs() <= 0.15,
            "{exact:.3} estimated {estimate:.3}: {:?} / {:?}",
            p.a,
            p.b
        );
    }
}

#[test]
fn lsh_finds_the_same_subject_pairs() {
    let pairs = corpus();
    let mut lsh = Lsh::new(SAME_SUBJECT);
    for (i, p) in pairs.iter().enumerate() {
        lsh.insert(2 * i, &signature(p.a));
        lsh.insert(2 * i + 1, &signature(p.b));
    }
    let candidates: BTreeSet<(usize, usize)> = lsh.candidates().into_iter().collect();
    let same: Vec<usize> = (0..pairs.len()).filter(|&i| pairs[i].same()).collect();
    let found = same
        .iter()
        .filter(|&&i| candidates.contains(&(2 * i, 2 * i + 1)))
        .count();
    for &i in &same {
        if !candidates.contains(&(2 * i, 2 * i + 1)) {
            println!(
                "  missed at {:.3}: {:?}",
                jaccard(pairs[i].a, pairs[i].b),
                pairs[i].a
            );
        }
    }
    let share = found as f64 / same.len() as f64;
    println!(
        "LSH {:?} finds {found} of {} same-subject pairs ({share:.3}) among {} candidates",
        lsh.shape(),
        same.len(),
        candidates.len()
    );
    assert!(share >= 0.95, "{share}");
}

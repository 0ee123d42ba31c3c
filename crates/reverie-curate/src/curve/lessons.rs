//! Which failures a store's sessions had, and which entries are lessons about them — one
//! reading shared by the failure curve, drift and `reverie bench curve`, so that the three
//! agree on what a lesson is.
//!
//! A failure is a failed tool call as the lesson extractor reads it ([`crate::extract::failures`]),
//! named by its [signature](crate::signature). A lesson is an entry that an applied dream's
//! `add`, `merge` or `rewrite` produced with evidence citing a failed call (or its result);
//! it is in memory from that dream until an `archive` or `supersede` takes it out.

use std::collections::{BTreeMap, BTreeSet};

use reverie_core::Timestamp;
use reverie_core::curation::{Changeset, Op, OpKind};

use crate::extract::{Failure, failures};
use crate::input::SessionInput;

/// Every failed call of a store's sessions, by signature.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FailureLog {
    /// The signature of each failed call's event and of its result's event, by session and
    /// event (nested, so that a lookup borrows the session id rather than copying it).
    calls: BTreeMap<String, BTreeMap<i64, String>>,
    /// Each signature's sessions: when the session was brought in, and its id; one per session.
    sessions: BTreeMap<String, Vec<(Timestamp, String)>>,
}

impl FailureLog {
    /// The failures of `sessions`, each session dated by when it was brought in.
    pub fn of(sessions: &[SessionInput]) -> FailureLog {
        let mut log = FailureLog::default();
        for s in sessions {
            log.add(&s.session.id, s.session.created_at, &failures(s));
        }
        log
    }

    /// Records one session's failures.
    pub fn add(&mut self, session_id: &str, at: Timestamp, fs: &[Failure]) {
        for f in fs {
            let key = f.signature.key();
            // A lesson's evidence cites the failed call's result; either event names it.
            let calls = self.calls.entry(session_id.to_string()).or_default();
            if let Some(r) = f.result_seq {
                calls.insert(r, key.clone());
            }
            let list = self.sessions.entry(key.clone()).or_default();
            if !list.iter().any(|(_, id)| id == session_id) {
                list.push((at, session_id.to_string()));
                list.sort();
            }
            calls.insert(f.seq, key);
        }
    }

    /// The signatures an operation's evidence rests on.
    pub fn cited(&self, op: &Op) -> BTreeSet<&str> {
        op.evidence
            .iter()
            .filter_map(|e| self.calls.get(e.session_id.as_str())?.get(&e.seq))
            .map(String::as_str)
            .collect()
    }

    /// The sessions `signature` failed in, by the time they were brought in.
    pub fn sessions(&self, signature: &str) -> &[(Timestamp, String)] {
        self.sessions.get(signature).map_or(&[], Vec::as_slice)
    }
}

/// One lesson entry's life in memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Life {
    pub entry_id: String,
    /// When the dream that made it reached the memory, and which dream that was.
    pub added: Timestamp,
    pub dream_id: String,
    /// When an op took it out, if one did.
    pub gone: Option<Timestamp>,
}

/// The lessons of a store: for each signature, the entries about it and when each came and
/// went.
#[derive(Debug, Clone, Default)]
pub struct Lessons {
    by_signature: BTreeMap<String, Vec<Life>>,
}

impl Lessons {
    /// The lessons that `dreams` (id, when it reached the memory, its changeset), applied in
    /// time order, left.
    pub fn build<'a>(
        dreams: impl IntoIterator<Item = (&'a str, Timestamp, &'a Changeset)>,
        log: &FailureLog,
    ) -> Lessons {
        let mut dreams: Vec<(&str, Timestamp, &Changeset)> = dreams.into_iter().collect();
        dreams.sort_by(|a, b| a.1.cmp(&b.1).then_with(|| a.0.cmp(b.0)));
        let mut l = Lessons::default();
        for (id, at, c) in dreams {
            l.apply(id, at, c, log);
        }
        l
    }

    /// What one more dream, applied at `at`, did to the lessons.
    pub fn apply(
        &mut self,
        dream_id: &str,
        at: Timestamp,
        changeset: &Changeset,
        log: &FailureLog,
    ) {
        for op in &changeset.ops {
            match op.op {
                OpKind::Add | OpKind::Merge | OpKind::Rewrite if op.after.is_some() => {
                    for sig in log.cited(op) {
                        let list = self.by_signature.entry(sig.to_string()).or_default();
                        if !list
                            .iter()
                            .any(|l| l.entry_id == op.entry_id && l.gone.is_none())
                        {
                            list.push(Life {
                                entry_id: op.entry_id.clone(),
                                added: at,
                                dream_id: dream_id.to_string(),
                                gone: None,
                            });
                        }
                    }
                }
                OpKind::Archive | OpKind::Supersede => {
                    for l in self.by_signature.values_mut().flatten() {
                        if l.entry_id == op.entry_id && l.gone.is_none() {
                            l.gone = Some(at);
                        }
                    }
                }
                _ => {}
            }
        }
    }

    /// The lesson entries about `signature` in memory at `t`.
    pub fn live_at(&self, signature: &str, t: Timestamp) -> Vec<&str> {
        self.lives(signature)
            .filter(|l| l.added <= t && l.gone.is_none_or(|g| g > t))
            .map(|l| l.entry_id.as_str())
            .collect()
    }

    /// The lesson entries about `signature` in memory after the last dream applied.
    pub fn live(&self, signature: &str) -> Vec<&str> {
        self.lives(signature)
            .filter(|l| l.gone.is_none())
            .map(|l| l.entry_id.as_str())
            .collect()
    }

    /// The first lesson about `signature`: its dream and time.
    pub fn first(&self, signature: &str) -> Option<(&str, Timestamp)> {
        self.lives(signature)
            .min_by_key(|l| l.added)
            .map(|l| (l.dream_id.as_str(), l.added))
    }

    /// For each entry that was ever a lesson, the signatures it was about.
    pub fn by_entry(&self) -> BTreeMap<&str, BTreeSet<&str>> {
        let mut out: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
        for (sig, lives) in &self.by_signature {
            for l in lives {
                out.entry(l.entry_id.as_str())
                    .or_default()
                    .insert(sig.as_str());
            }
        }
        out
    }

    fn lives(&self, signature: &str) -> impl Iterator<Item = &Life> {
        self.by_signature.get(signature).into_iter().flatten()
    }
}

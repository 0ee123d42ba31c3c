//! Planning a restore: the changes that bring memories back to an earlier state.
//!
//! A restore never rewrites history: it is planned here as ordinary changes (re-create, modify,
//! delete) that the store writes as new versions in one new revision, so that the restore can
//! itself be restored away.

use std::collections::BTreeMap;

use crate::error::{Error, Result};
use crate::model::Operation;

/// A memory as it is now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Current {
    pub memory_id: String,
    pub path: String,
    pub content_sha256: String,
}

/// A memory's latest version at the target revision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub memory_id: String,
    pub version_id: String,
    pub operation: Operation,
    pub path: Option<String>,
    pub content: Option<String>,
    pub content_sha256: Option<String>,
    pub redacted: bool,
}

/// One change of a restore.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// The memory did not exist (or was deleted) and is brought back with its old id.
    Recreate {
        memory_id: String,
        path: String,
        content: String,
    },
    /// The memory exists and gets back its old path and/or content.
    Modify {
        memory_id: String,
        path: Option<String>,
        content: Option<String>,
    },
    /// The memory did not exist at the target.
    Delete { memory_id: String },
}

impl Change {
    /// The memory the change is about.
    pub fn memory_id(&self) -> &str {
        match self {
            Change::Recreate { memory_id, .. }
            | Change::Modify { memory_id, .. }
            | Change::Delete { memory_id } => memory_id,
        }
    }
}

/// The changes that turn `current` into the state described by `target` (the latest version
/// of every memory at the target revision). Memories absent from `target` did not exist then.
/// Fails, naming the memory, when the state to bring back was redacted.
pub fn plan(current: &[Current], target: &[Target]) -> Result<Vec<Change>> {
    let now: BTreeMap<&str, &Current> = current.iter().map(|c| (c.memory_id.as_str(), c)).collect();
    let then: BTreeMap<&str, &Target> = target.iter().map(|t| (t.memory_id.as_str(), t)).collect();
    let mut changes = Vec::new();
    for (id, t) in &then {
        let live_then = t.operation != Operation::Deleted;
        match (now.get(id), live_then) {
            (None, false) => {}
            (Some(_), false) => changes.push(Change::Delete {
                memory_id: id.to_string(),
            }),
            (cur, true) => {
                if t.redacted {
                    return Err(Error::Conflict(format!(
                        "cannot restore memory {id}: its version {} was redacted",
                        t.version_id
                    )));
                }
                let path = t.path.clone().expect("unredacted versions have a path");
                let content = t
                    .content
                    .clone()
                    .expect("unredacted live versions have content");
                match cur {
                    None => changes.push(Change::Recreate {
                        memory_id: id.to_string(),
                        path,
                        content,
                    }),
                    Some(c) => {
                        let new_path = (c.path != path).then_some(path);
                        let new_content = (Some(&c.content_sha256) != t.content_sha256.as_ref())
                            .then_some(content);
                        if new_path.is_some() || new_content.is_some() {
                            changes.push(Change::Modify {
                                memory_id: id.to_string(),
                                path: new_path,
                                content: new_content,
                            });
                        }
                    }
                }
            }
        }
    }
    for id in now.keys() {
        if !then.contains_key(id) {
            changes.push(Change::Delete {
                memory_id: id.to_string(),
            });
        }
    }
    changes.sort_by(|a, b| a.memory_id().cmp(b.memory_id()));
    Ok(changes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::content::sha256_hex;

    fn cur(id: &str, path: &str, content: &str) -> Current {
        Current {
            memory_id: id.into(),
            path: path.into(),
            content_sha256: sha256_hex(content),
        }
    }

    fn tgt(id: &str, op: Operation, path: &str, content: Option<&str>) -> Target {
        Target {
            memory_id: id.into(),
            version_id: format!("memver_{id}"),
            operation: op,
            path: Some(path.into()),
            content: content.map(String::from),
            content_sha256: content.map(sha256_hex),
            redacted: false,
        }
    }

    #[test]
    fn plans_every_kind_of_change() {
        let current = [
            cur("a", "/a", "1"),
            cur("b", "/b", "2"),
            cur("c", "/c", "3"),
            cur("e", "/e", "5"),
        ];
        let target = [
            tgt("a", Operation::Modified, "/a", Some("old")), // content back
            tgt("b", Operation::Created, "/b-old", Some("2")), // path back
            tgt("d", Operation::Modified, "/d", Some("4")),   // deleted since: re-created
            tgt("e", Operation::Deleted, "/e", None),         // deleted then: deleted now
            tgt("f", Operation::Deleted, "/f", None),         // deleted then and now: nothing
        ];
        // c did not exist at the target: deleted.
        let plan = plan(&current, &target).unwrap();
        assert_eq!(
            plan,
            vec![
                Change::Modify {
                    memory_id: "a".into(),
                    path: None,
                    content: Some("old".into())
                },
                Change::Modify {
                    memory_id: "b".into(),
                    path: Some("/b-old".into()),
                    content: None
                },
                Change::Delete {
                    memory_id: "c".into()
                },
                Change::Recreate {
                    memory_id: "d".into(),
                    path: "/d".into(),
                    content: "4".into()
                },
                Change::Delete {
                    memory_id: "e".into()
                },
            ]
        );
    }

    #[test]
    fn unchanged_memories_are_left_alone() {
        let current = [cur("a", "/a", "1")];
        let target = [tgt("a", Operation::Created, "/a", Some("1"))];
        assert!(plan(&current, &target).unwrap().is_empty());
    }

    #[test]
    fn a_redacted_state_cannot_be_brought_back() {
        let mut t = tgt("a", Operation::Modified, "/a", Some("secret"));
        t.redacted = true;
        t.path = None;
        t.content = None;
        let err = plan(&[], &[t]).unwrap_err();
        assert!(err.to_string().contains("memver_a was redacted"), "{err}");
    }
}

#[cfg(test)]
mod properties {
    use std::collections::BTreeMap;

    use proptest::prelude::*;

    use super::*;
    use crate::content::sha256_hex;

    /// A store state: memory id -> (path, content), paths unique.
    fn state() -> impl Strategy<Value = BTreeMap<String, (String, String)>> {
        proptest::collection::btree_map(0u8..12, (0u8..12, "[ab]{0,3}"), 0..10).prop_map(|m| {
            let mut used = std::collections::BTreeSet::new();
            m.into_iter()
                .filter(|(_, (p, _))| used.insert(*p))
                .map(|(id, (p, c))| (format!("mem_{id}"), (format!("/p{p}"), c)))
                .collect()
        })
    }

    proptest! {
        /// Applying the plan to the current state gives exactly the target state.
        #[test]
        fn the_plan_reaches_the_target(now in state(), then in state(), deleted_then in proptest::collection::btree_set(0u8..12, 0..4)) {
            let current: Vec<Current> = now
                .iter()
                .map(|(id, (p, c))| Current { memory_id: id.clone(), path: p.clone(), content_sha256: sha256_hex(c) })
                .collect();
            let mut target: Vec<Target> = then
                .iter()
                .map(|(id, (p, c))| Target {
                    memory_id: id.clone(),
                    version_id: format!("memver_{id}"),
                    operation: Operation::Modified,
                    path: Some(p.clone()),
                    content: Some(c.clone()),
                    content_sha256: Some(sha256_hex(c)),
                    redacted: false,
                })
                .collect();
            for d in deleted_then {
                let id = format!("mem_{d}");
                if !then.contains_key(&id) {
                    target.push(Target {
                        memory_id: id.clone(),
                        version_id: format!("memver_{id}"),
                        operation: Operation::Deleted,
                        path: Some("/gone".into()),
                        content: None,
                        content_sha256: None,
                        redacted: false,
                    });
                }
            }
            let mut state = now.clone();
            let contents: BTreeMap<String, String> = now.iter().map(|(id, (_, c))| (id.clone(), c.clone())).collect();
            for change in plan(&current, &target).unwrap() {
                match change {
                    Change::Delete { memory_id } => {
                        prop_assert!(state.remove(&memory_id).is_some());
                    }
                    Change::Recreate { memory_id, path, content } => {
                        prop_assert!(state.insert(memory_id, (path, content)).is_none());
                    }
                    Change::Modify { memory_id, path, content } => {
                        prop_assert!(path.is_some() || content.is_some(), "no empty modifications");
                        let entry = state.get_mut(&memory_id).unwrap();
                        if let Some(p) = path { entry.0 = p; }
                        entry.1 = content.unwrap_or_else(|| contents[&memory_id].clone());
                    }
                }
            }
            prop_assert_eq!(state, then);
        }
    }
}

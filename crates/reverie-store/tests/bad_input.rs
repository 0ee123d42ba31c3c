//! Bad input: every rule of api-contract.md §1 is refused with the contract's error type and a
//! message that names the problem, and nothing is written — on both backends.

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;

use common::{new_store, user};
use reverie_core::content::sha256_hex;
use reverie_core::{ErrorType, Result, View};
use reverie_store::{
    MemoryPatch, MemoryQuery, NewStore, Store, StorePatch, StoreQuery, VersionQuery,
};

on_both_backends!(
    invalid_paths_are_refused_on_create_and_rename,
    oversized_content_is_refused,
    store_fields_are_checked,
    list_parameters_are_checked,
    malformed_and_unknown_ids,
    malformed_preconditions_and_cursors,
);

/// Everything a refused request could have touched, to compare before and after.
async fn state(s: &dyn Store, st: &str) -> (i64, String, Vec<String>) {
    let store = s.get_store(st).await.unwrap();
    let mems = s
        .list_memories(
            st,
            &MemoryQuery {
                view: View::Full,
                limit: Some(20),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let versions = s
        .list_versions(
            st,
            &VersionQuery {
                limit: Some(100),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    (
        store.revision,
        serde_json::to_string(&store).unwrap(),
        mems.data
            .iter()
            .map(|i| serde_json::to_string(i).unwrap())
            .chain(versions.data.iter().map(|v| v.id.clone()))
            .collect(),
    )
}

fn refused<T: std::fmt::Debug>(r: Result<T>, ty: ErrorType, fragment: &str) {
    let err = r.expect_err(&format!("expected {ty} mentioning {fragment:?}"));
    assert_eq!(err.error_type(), ty, "{err}");
    assert!(
        err.to_string().contains(fragment),
        "message {:?} lacks {fragment:?}",
        err.to_string()
    );
    let body = err.to_body();
    assert_eq!(body["type"], "error");
    assert_eq!(body["error"]["type"], ty.as_str());
}

const INVALID_PATHS: &[(&str, &str)] = &[
    ("notes.md", "must start with \"/\""),
    ("", "must start with \"/\""),
    ("/", "empty segment"),
    ("/a//b", "empty segment"),
    ("/a/", "empty segment"),
    ("/./a", "\".\" segment"),
    ("/a/../b", "\"..\" segment"),
    ("/a\u{0}b", "U+0000"),
    ("/a\tb", "U+0009"),
    ("/a\u{1b}[31m", "U+001B"),
    ("/zero\u{200b}width", "U+200B"),
    ("/rtl\u{202e}txt.md", "U+202E"),
    ("/line\u{2028}sep", "U+2028"),
    ("/para\u{2029}sep", "U+2029"),
    ("/cafe\u{301}", "Normalization Form C"),
];

async fn invalid_paths_are_refused_on_create_and_rename(s: Arc<dyn Store>) {
    let st = new_store(&*s, "paths").await;
    let m = s.create_memory(&st, "/ok", "x", &user()).await.unwrap();
    let before = state(&*s, &st).await;
    let deep = "/d".repeat(21);
    let long = format!("/{}", "a".repeat(1024));
    let mut cases: Vec<(String, String)> = INVALID_PATHS
        .iter()
        .map(|(p, f)| (p.to_string(), f.to_string()))
        .collect();
    cases.push((deep, "21 segments".into()));
    cases.push((long, "1025 bytes".into()));
    for (path, fragment) in &cases {
        refused(
            s.create_memory(&st, path, "x", &user()).await,
            ErrorType::InvalidRequest,
            fragment,
        );
        let rename = MemoryPatch {
            path: Some(path.clone()),
            ..Default::default()
        };
        refused(
            s.update_memory(&st, &m.id, rename, &user()).await,
            ErrorType::InvalidRequest,
            fragment,
        );
        refused(
            s.get_memory_by_path(&st, path).await,
            ErrorType::InvalidRequest,
            fragment,
        );
    }
    assert_eq!(state(&*s, &st).await, before, "nothing was written");
}

async fn oversized_content_is_refused(s: Arc<dyn Store>) {
    let st = new_store(&*s, "size").await;
    let max = "é".repeat(51_200); // exactly 102,400 bytes
    let m = s.create_memory(&st, "/max", &max, &user()).await.unwrap();
    assert_eq!(m.content_size_bytes, 102_400);
    let before = state(&*s, &st).await;
    let over = format!("{max}!");
    refused(
        s.create_memory(&st, "/over", &over, &user()).await,
        ErrorType::InvalidRequest,
        "102401 bytes",
    );
    let patch = MemoryPatch {
        content: Some(over),
        ..Default::default()
    };
    refused(
        s.update_memory(&st, &m.id, patch, &user()).await,
        ErrorType::InvalidRequest,
        "limit of 102400 bytes",
    );
    assert_eq!(state(&*s, &st).await, before);
}

async fn store_fields_are_checked(s: Arc<dyn Store>) {
    let st = new_store(&*s, "fields").await;
    let before_store = s.get_store(&st).await.unwrap();
    let count = s
        .list_stores(&StoreQuery {
            include_archived: true,
            limit: Some(100),
            ..Default::default()
        })
        .await
        .unwrap()
        .data
        .len();
    let many: BTreeMap<String, String> = (0..17).map(|i| (format!("k{i}"), "v".into())).collect();
    let new_cases: Vec<(NewStore, &str)> = vec![
        (
            NewStore {
                name: "".into(),
                ..Default::default()
            },
            "got 0",
        ),
        (
            NewStore {
                name: "n".repeat(256),
                ..Default::default()
            },
            "got 256",
        ),
        (
            NewStore {
                name: "bell\u{7}".into(),
                ..Default::default()
            },
            "U+0007",
        ),
        (
            NewStore {
                name: "n".into(),
                description: "d".repeat(1025),
                ..Default::default()
            },
            "1025 characters",
        ),
        (
            NewStore {
                name: "n".into(),
                metadata: many.clone(),
                ..Default::default()
            },
            "17 pairs",
        ),
        (
            NewStore {
                name: "n".into(),
                metadata: BTreeMap::from([("".into(), "v".into())]),
                ..Default::default()
            },
            "keys are 1 to 64",
        ),
        (
            NewStore {
                name: "n".into(),
                metadata: BTreeMap::from([("k".repeat(65), "v".into())]),
                ..Default::default()
            },
            "65 characters",
        ),
        (
            NewStore {
                name: "n".into(),
                metadata: BTreeMap::from([("k".into(), "v".repeat(513))]),
                ..Default::default()
            },
            "513 characters",
        ),
        (
            NewStore {
                name: "n".into(),
                max_memories: Some(0),
                ..Default::default()
            },
            "max_memories",
        ),
    ];
    for (new, fragment) in new_cases {
        refused(
            s.create_store(new).await,
            ErrorType::InvalidRequest,
            fragment,
        );
    }
    let patch_cases: Vec<(StorePatch, &str)> = vec![
        (
            StorePatch {
                name: Some(String::new()),
                ..Default::default()
            },
            "got 0",
        ),
        (
            StorePatch {
                description: Some("d".repeat(1025)),
                ..Default::default()
            },
            "1025 characters",
        ),
        (
            StorePatch {
                metadata: Some(many.into_iter().map(|(k, v)| (k, Some(v))).collect()),
                ..Default::default()
            },
            "17 pairs",
        ),
    ];
    for (patch, fragment) in patch_cases {
        refused(
            s.update_store(&st, patch).await,
            ErrorType::InvalidRequest,
            fragment,
        );
    }
    assert_eq!(s.get_store(&st).await.unwrap(), before_store);
    let after = s
        .list_stores(&StoreQuery {
            include_archived: true,
            limit: Some(100),
            ..Default::default()
        })
        .await
        .unwrap()
        .data
        .len();
    assert_eq!(after, count, "no store was created");
}

async fn list_parameters_are_checked(s: Arc<dyn Store>) {
    let st = new_store(&*s, "lists").await;
    for limit in [0, 101, -5] {
        let q = MemoryQuery {
            limit: Some(limit),
            ..Default::default()
        };
        refused(
            s.list_memories(&st, &q).await,
            ErrorType::InvalidRequest,
            &format!("got {limit}"),
        );
        let q = VersionQuery {
            limit: Some(limit),
            ..Default::default()
        };
        refused(
            s.list_versions(&st, &q).await,
            ErrorType::InvalidRequest,
            "limit",
        );
        let q = StoreQuery {
            limit: Some(limit),
            ..Default::default()
        };
        refused(s.list_stores(&q).await, ErrorType::InvalidRequest, "limit");
    }
    let q = MemoryQuery {
        depth: Some(-1),
        ..Default::default()
    };
    refused(
        s.list_memories(&st, &q).await,
        ErrorType::InvalidRequest,
        "depth",
    );
    for (prefix, fragment) in [
        ("/notes", "must end with"),
        ("notes/", "must start with"),
        ("/a//", "empty segment"),
        ("/../", "\"..\""),
    ] {
        let q = MemoryQuery {
            path_prefix: Some(prefix.into()),
            ..Default::default()
        };
        refused(
            s.list_memories(&st, &q).await,
            ErrorType::InvalidRequest,
            fragment,
        );
    }
    let q = VersionQuery {
        session_id: Some("sesn_a".into()),
        api_key_id: Some("k".into()),
        ..Default::default()
    };
    refused(
        s.list_versions(&st, &q).await,
        ErrorType::InvalidRequest,
        "at most one",
    );
}

async fn malformed_and_unknown_ids(s: Arc<dyn Store>) {
    let st = new_store(&*s, "ids").await;
    let m = s.create_memory(&st, "/a", "x", &user()).await.unwrap();
    let before = state(&*s, &st).await;
    // Malformed: refused as such, naming the kind of id.
    refused(
        s.get_store("mem_123").await,
        ErrorType::InvalidRequest,
        "is not a memory store id",
    );
    refused(
        s.get_store("memstore_../x").await,
        ErrorType::InvalidRequest,
        "is not a memory store id",
    );
    refused(
        s.get_memory(&st, "memver_1").await,
        ErrorType::InvalidRequest,
        "is not a memory id",
    );
    refused(
        s.get_version(&st, &m.id).await,
        ErrorType::InvalidRequest,
        "is not a memory version id",
    );
    refused(
        s.create_memory("nope", "/b", "x", &user()).await,
        ErrorType::InvalidRequest,
        "memory store id",
    );
    // Well-formed but unknown: 404, naming the id.
    let ghost_store = "memstore_01DoesNotExist";
    refused(
        s.get_store(ghost_store).await,
        ErrorType::NotFound,
        ghost_store,
    );
    refused(
        s.get_memory(ghost_store, &m.id).await,
        ErrorType::NotFound,
        ghost_store,
    );
    refused(
        s.list_memories(ghost_store, &MemoryQuery::default()).await,
        ErrorType::NotFound,
        ghost_store,
    );
    refused(
        s.create_memory(ghost_store, "/b", "x", &user()).await,
        ErrorType::NotFound,
        ghost_store,
    );
    let ghost = "mem_01DoesNotExist";
    refused(s.get_memory(&st, ghost).await, ErrorType::NotFound, ghost);
    let patch = MemoryPatch {
        content: Some("y".into()),
        ..Default::default()
    };
    refused(
        s.update_memory(&st, ghost, patch, &user()).await,
        ErrorType::NotFound,
        ghost,
    );
    refused(
        s.delete_memory(&st, ghost, None, &user()).await,
        ErrorType::NotFound,
        ghost,
    );
    refused(
        s.get_version(&st, "memver_01Nope").await,
        ErrorType::NotFound,
        "memver_01Nope",
    );
    refused(
        s.redact_version(&st, "memver_01Nope", &user()).await,
        ErrorType::NotFound,
        "memver_01Nope",
    );
    refused(
        s.restore_memory(&st, &m.id, "memver_01Nope", &user()).await,
        ErrorType::NotFound,
        "memver_01Nope",
    );
    // A memory of another store is not found through this one.
    let other = new_store(&*s, "other").await;
    refused(
        s.get_memory(&other, &m.id).await,
        ErrorType::NotFound,
        &m.id,
    );
    refused(
        s.delete_memory(&other, &m.id, None, &user()).await,
        ErrorType::NotFound,
        &m.id,
    );
    assert_eq!(state(&*s, &st).await, before);
}

async fn malformed_preconditions_and_cursors(s: Arc<dyn Store>) {
    let st = new_store(&*s, "pre").await;
    let m = s.create_memory(&st, "/a", "x", &user()).await.unwrap();
    let before = state(&*s, &st).await;
    for bad in [
        "abc",
        &sha256_hex("x").to_uppercase(),
        &format!("{}0", sha256_hex("x")),
    ] {
        let patch = MemoryPatch {
            content: Some("y".into()),
            precondition_content_sha256: Some(bad.to_string()),
            ..Default::default()
        };
        refused(
            s.update_memory(&st, &m.id, patch, &user()).await,
            ErrorType::InvalidRequest,
            "64 lowercase hexadecimal",
        );
        refused(
            s.delete_memory(&st, &m.id, Some(bad), &user()).await,
            ErrorType::InvalidRequest,
            "expected_content_sha256",
        );
    }
    for garbage in ["not-a-cursor", "e30", "!!"] {
        let q = MemoryQuery {
            page: Some(garbage.into()),
            ..Default::default()
        };
        refused(
            s.list_memories(&st, &q).await,
            ErrorType::InvalidRequest,
            "cursor",
        );
        let q = VersionQuery {
            page: Some(garbage.into()),
            ..Default::default()
        };
        refused(
            s.list_versions(&st, &q).await,
            ErrorType::InvalidRequest,
            "cursor",
        );
    }
    assert_eq!(state(&*s, &st).await, before);
}

//! The store suite: the semantics of api-contract.md §1, run on SQLite and on PostgreSQL.

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;

use common::{new_store, session, user};
use reverie_core::content::sha256_hex;
use reverie_core::memtool::Command;
use reverie_core::{Error, ErrorType, ListItem, Operation, View};
use reverie_store::{
    MemoryPatch, MemoryQuery, NewStore, Store, StorePatch, StoreQuery, VersionQuery,
};
use serde_json::json;

on_both_backends!(
    stores_lifecycle,
    memory_fields_and_views,
    listing_prefixes_depth_and_pages,
    rename_keeps_id_and_conflicts_are_409,
    versions_record_every_change,
    redaction,
    revisions_and_state_at,
    restore_memory_and_store,
    archived_store_is_read_only,
    memory_limit_per_store,
    memory_tool_through_the_store,
    memory_tool_one_file_commands_answer_as_the_whole_tree,
);

async fn stores_lifecycle(s: Arc<dyn Store>) {
    let a = s
        .create_store(NewStore {
            name: "agent-a".into(),
            description: "notes of agent a".into(),
            metadata: BTreeMap::from([("owner".into(), "ana".into())]),
            max_memories: None,
        })
        .await
        .unwrap();
    assert!(a.id.starts_with("memstore_"));
    assert_eq!(a.max_memories, 10_000, "the hosted limit");
    assert_eq!(a.revision, 0);
    let json = serde_json::to_value(&a).unwrap();
    assert_eq!(json["type"], "memory_store");
    assert_eq!(json["archived_at"], serde_json::Value::Null);

    let mut ids = vec![a.id.clone()];
    for i in 0..4 {
        ids.push(new_store(&*s, &format!("s{i}")).await);
    }
    // Newest first, paginated with a cursor.
    let mut seen = Vec::new();
    let mut page = None;
    loop {
        let p = s
            .list_stores(&StoreQuery {
                limit: Some(2),
                page,
                ..Default::default()
            })
            .await
            .unwrap();
        seen.extend(p.data.iter().map(|m| m.id.clone()));
        match p.next_page {
            Some(n) => page = Some(n),
            None => break,
        }
    }
    ids.reverse();
    assert_eq!(seen, ids);

    let updated = s
        .update_store(
            &a.id,
            StorePatch {
                name: Some("agent-a2".into()),
                metadata: Some(BTreeMap::from([
                    ("owner".into(), None),
                    ("team".into(), Some("x".into())),
                ])),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(updated.name, "agent-a2");
    assert_eq!(updated.description, "notes of agent a");
    assert_eq!(
        updated.metadata,
        BTreeMap::from([("team".into(), "x".into())])
    );
    assert!(updated.updated_at >= a.updated_at);

    let archived = s.archive_store(&a.id).await.unwrap();
    assert!(archived.archived_at.is_some());
    let listed = s.list_stores(&StoreQuery::default()).await.unwrap();
    assert!(
        !listed.data.iter().any(|m| m.id == a.id),
        "archived stores are hidden by default"
    );
    let all = s
        .list_stores(&StoreQuery {
            include_archived: true,
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(all.data.iter().any(|m| m.id == a.id));
    assert_eq!(s.stores_named("agent-a2").await.unwrap().len(), 1);

    let b = &ids[0];
    s.create_memory(b, "/x", "y", &user()).await.unwrap();
    s.delete_store(b).await.unwrap();
    assert_eq!(
        s.get_store(b).await.unwrap_err().error_type(),
        ErrorType::NotFound
    );
    assert_eq!(
        s.delete_store(b).await.unwrap_err().error_type(),
        ErrorType::NotFound
    );
}

async fn memory_fields_and_views(s: Arc<dyn Store>) {
    let st = new_store(&*s, "m").await;
    let content = "# Notes\n\n- use `cargo nextest`\n- naïve café ☕\n";
    let m = s
        .create_memory(&st, "/projects/foo/notes.md", content, &session("sesn_1"))
        .await
        .unwrap();
    assert!(m.id.starts_with("mem_") && m.memory_version_id.starts_with("memver_"));
    assert_eq!(m.content_sha256, sha256_hex(content));
    assert_eq!(m.content_size_bytes, content.len() as i64);
    assert_eq!(m.memory_store_id, st);
    let got = s.get_memory(&st, &m.id).await.unwrap();
    assert_eq!(
        got.content.as_deref(),
        Some(content),
        "retrieve defaults to full"
    );
    assert_eq!(
        s.get_memory_by_path(&st, "/projects/foo/notes.md")
            .await
            .unwrap()
            .id,
        m.id
    );

    // Content round-trips byte for byte, NUL and CRLF included.
    let odd = "a\u{0}b\r\nc\u{feff}";
    let m2 = s.create_memory(&st, "/odd", odd, &user()).await.unwrap();
    assert_eq!(
        s.get_memory(&st, &m2.id).await.unwrap().content.as_deref(),
        Some(odd)
    );
    assert_eq!(m2.content_sha256, sha256_hex(odd));
    let empty = s.create_memory(&st, "/empty", "", &user()).await.unwrap();
    assert_eq!(empty.content_size_bytes, 0);

    let basic = s.list_memories(&st, &MemoryQuery::default()).await.unwrap();
    assert_eq!(basic.data.len(), 3);
    for item in &basic.data {
        let ListItem::Memory(m) = item else {
            panic!("depth 0 lists memories only")
        };
        assert!(m.content.is_none(), "basic view omits content");
        assert!(!m.content_sha256.is_empty());
    }
    let full = s
        .list_memories(
            &st,
            &MemoryQuery {
                view: View::Full,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(
        full.data
            .iter()
            .all(|i| matches!(i, ListItem::Memory(m) if m.content.is_some()))
    );
    // With full, at most 20 per page whatever the limit.
    for i in 0..25 {
        s.create_memory(&st, &format!("/many/{i:02}"), "x", &user())
            .await
            .unwrap();
    }
    let capped = s
        .list_memories(
            &st,
            &MemoryQuery {
                view: View::Full,
                limit: Some(100),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(capped.data.len(), 20);
    assert!(capped.next_page.is_some());
}

async fn listing_prefixes_depth_and_pages(s: Arc<dyn Store>) {
    let st = new_store(&*s, "l").await;
    let paths = [
        "/a.md",
        "/notes/todo.md",
        "/notes/x/deep.md",
        "/notes/x/y/deeper.md",
        "/notes/z.md",
        "/notes-archive/todo.md",
        "/zz/1",
        "/zz/2",
    ];
    for p in paths {
        s.create_memory(&st, p, p, &user()).await.unwrap();
    }
    let list =
        |prefix: Option<&str>, depth: Option<i64>, limit: Option<i64>, page: Option<String>| {
            let s = s.clone();
            let st = st.clone();
            let q = MemoryQuery {
                path_prefix: prefix.map(String::from),
                depth,
                limit,
                page,
                view: View::Basic,
            };
            async move { s.list_memories(&st, &q).await.unwrap() }
        };
    let names = |items: &[ListItem]| {
        items
            .iter()
            .map(|i| i.path().to_string())
            .collect::<Vec<_>>()
    };

    // Whole segments: /notes/ does not match /notes-archive/.
    let notes = list(Some("/notes/"), None, None, None).await;
    assert_eq!(
        names(&notes.data),
        vec![
            "/notes/todo.md",
            "/notes/x/deep.md",
            "/notes/x/y/deeper.md",
            "/notes/z.md"
        ]
    );
    assert!(notes.next_page.is_none());

    // depth 1 rolls deeper memories into prefixes, in path order.
    let top = list(None, Some(1), None, None).await;
    assert_eq!(
        names(&top.data),
        vec!["/a.md", "/notes-archive/", "/notes/", "/zz/"]
    );
    let prefix_json = serde_json::to_value(&top.data[1]).unwrap();
    assert_eq!(
        prefix_json,
        json!({"type": "memory_prefix", "path": "/notes-archive/"})
    );
    let d2 = list(Some("/notes/"), Some(1), None, None).await;
    assert_eq!(
        names(&d2.data),
        vec!["/notes/todo.md", "/notes/x/", "/notes/z.md"]
    );
    let d3 = list(Some("/notes/"), Some(2), None, None).await;
    assert_eq!(
        names(&d3.data),
        vec![
            "/notes/todo.md",
            "/notes/x/deep.md",
            "/notes/x/y/",
            "/notes/z.md"
        ]
    );

    // Pages of every size walk the same sequence, prefixes counting toward the limit.
    for depth in [0, 1, 2] {
        let whole = names(&list(None, Some(depth), Some(100), None).await.data);
        for limit in 1..=4 {
            let mut got = Vec::new();
            let mut page = None;
            loop {
                let p = list(None, Some(depth), Some(limit), page).await;
                assert!(p.data.len() as i64 <= limit);
                got.extend(names(&p.data));
                match p.next_page {
                    Some(n) => page = Some(n),
                    None => break,
                }
            }
            assert_eq!(got, whole, "depth {depth} limit {limit}");
        }
    }
    // A cursor belongs to its listing.
    let first = list(None, Some(1), Some(1), None).await;
    let err = s
        .list_memories(
            &st,
            &MemoryQuery {
                depth: Some(2),
                limit: Some(1),
                page: first.next_page.clone(),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert_eq!(err.error_type(), ErrorType::InvalidRequest);
}

async fn rename_keeps_id_and_conflicts_are_409(s: Arc<dyn Store>) {
    let st = new_store(&*s, "r").await;
    let a = s.create_memory(&st, "/a", "alpha", &user()).await.unwrap();
    s.create_memory(&st, "/b", "beta", &user()).await.unwrap();

    let err = s
        .create_memory(&st, "/a", "again", &user())
        .await
        .unwrap_err();
    assert_eq!(err.error_type(), ErrorType::MemoryPathConflict);
    assert_eq!(err.error_type().http_status(), 409);
    assert!(err.to_string().contains(&a.id), "{err}");

    let moved = s
        .update_memory(
            &st,
            &a.id,
            MemoryPatch {
                path: Some("/c/a".into()),
                ..Default::default()
            },
            &user(),
        )
        .await
        .unwrap();
    assert_eq!(moved.id, a.id);
    assert_eq!(moved.path, "/c/a");
    assert_eq!(moved.content_sha256, a.content_sha256);
    let err = s
        .update_memory(
            &st,
            &a.id,
            MemoryPatch {
                path: Some("/b".into()),
                ..Default::default()
            },
            &user(),
        )
        .await
        .unwrap_err();
    assert_eq!(err.error_type(), ErrorType::MemoryPathConflict);

    // Preconditions on update and delete.
    let stale = MemoryPatch {
        content: Some("new".into()),
        precondition_content_sha256: Some(sha256_hex("not the content")),
        ..Default::default()
    };
    let err = s
        .update_memory(&st, &a.id, stale, &user())
        .await
        .unwrap_err();
    assert_eq!(err.error_type(), ErrorType::MemoryPreconditionFailed);
    assert!(matches!(err, Error::PreconditionFailed { .. }));
    let fresh = MemoryPatch {
        content: Some("new".into()),
        precondition_content_sha256: Some(a.content_sha256.clone()),
        ..Default::default()
    };
    let updated = s.update_memory(&st, &a.id, fresh, &user()).await.unwrap();
    assert_eq!(updated.content_sha256, sha256_hex("new"));
    let err = s
        .delete_memory(&st, &a.id, Some(&a.content_sha256), &user())
        .await
        .unwrap_err();
    assert_eq!(err.error_type(), ErrorType::MemoryPreconditionFailed);
    s.delete_memory(&st, &a.id, Some(&sha256_hex("new")), &user())
        .await
        .unwrap();
    assert_eq!(
        s.get_memory(&st, &a.id).await.unwrap_err().error_type(),
        ErrorType::NotFound
    );

    // An update that changes nothing writes nothing.
    let b = s.get_memory_by_path(&st, "/b").await.unwrap();
    let rev = s.get_store(&st).await.unwrap().revision;
    let same = s
        .update_memory(
            &st,
            &b.id,
            MemoryPatch {
                content: Some("beta".into()),
                ..Default::default()
            },
            &user(),
        )
        .await
        .unwrap();
    assert_eq!(same.memory_version_id, b.memory_version_id);
    assert_eq!(s.get_store(&st).await.unwrap().revision, rev);
}

async fn versions_record_every_change(s: Arc<dyn Store>) {
    let st = new_store(&*s, "v").await;
    let m = s
        .create_memory(&st, "/a", "1", &session("sesn_A"))
        .await
        .unwrap();
    s.update_memory(
        &st,
        &m.id,
        MemoryPatch {
            content: Some("2".into()),
            ..Default::default()
        },
        &user(),
    )
    .await
    .unwrap();
    s.update_memory(
        &st,
        &m.id,
        MemoryPatch {
            path: Some("/b".into()),
            ..Default::default()
        },
        &session("sesn_B"),
    )
    .await
    .unwrap();
    s.delete_memory(&st, &m.id, None, &user()).await.unwrap();
    let other = s.create_memory(&st, "/other", "o", &user()).await.unwrap();

    let q = VersionQuery {
        memory_id: Some(m.id.clone()),
        view: View::Full,
        ..Default::default()
    };
    let versions = s.list_versions(&st, &q).await.unwrap().data;
    let ops: Vec<Operation> = versions.iter().map(|v| v.operation).collect();
    assert_eq!(
        ops,
        vec![
            Operation::Deleted,
            Operation::Modified,
            Operation::Modified,
            Operation::Created
        ]
    );
    let paths: Vec<_> = versions.iter().map(|v| v.path.clone().unwrap()).collect();
    assert_eq!(paths, vec!["/b", "/b", "/a", "/a"]);
    assert_eq!(
        versions[0].content, None,
        "a deleted version has no content"
    );
    assert_eq!(versions[0].content_sha256, None);
    assert_eq!(
        versions[1].content.as_deref(),
        Some("2"),
        "a rename records the content it kept"
    );
    assert_eq!(versions[3].content_size_bytes, Some(1));
    assert_eq!(versions[3].created_by, Some(session("sesn_A")));
    let json = serde_json::to_value(&versions[3]).unwrap();
    assert_eq!(json["type"], "memory_version");
    assert_eq!(
        json["created_by"],
        json!({"type": "session_actor", "session_id": "sesn_A"})
    );
    assert_eq!(json["redacted_at"], serde_json::Value::Null);

    // Basic view drops content but keeps the digest.
    let basic = s
        .list_versions(
            &st,
            &VersionQuery {
                memory_id: Some(m.id.clone()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(basic.data.iter().all(|v| v.content.is_none()));
    assert!(basic.data[1].content_sha256.is_some());

    let all = s
        .list_versions(&st, &VersionQuery::default())
        .await
        .unwrap()
        .data;
    assert_eq!(all.len(), 5);
    assert_eq!(all[0].memory_id, other.id, "newest first");
    let deleted = s
        .list_versions(
            &st,
            &VersionQuery {
                operation: Some(Operation::Deleted),
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .data;
    assert_eq!(deleted.len(), 1);
    let by_b = s
        .list_versions(
            &st,
            &VersionQuery {
                session_id: Some("sesn_B".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .data;
    assert_eq!(by_b.len(), 1);
    assert_eq!(by_b[0].path.as_deref(), Some("/b"));
    // Pages.
    let p1 = s
        .list_versions(
            &st,
            &VersionQuery {
                limit: Some(3),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let p2 = s
        .list_versions(
            &st,
            &VersionQuery {
                limit: Some(3),
                page: p1.next_page.clone(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(p1.data.len() + p2.data.len(), 5);
    assert!(p2.next_page.is_none());
    let v = s.get_version(&st, &versions[2].id).await.unwrap();
    assert_eq!(v.content.as_deref(), Some("2"));

    // Time filters are inclusive on both ends.
    let cut = versions[2].created_at;
    let since = s
        .list_versions(
            &st,
            &VersionQuery {
                created_at_gte: Some(cut),
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .data;
    assert_eq!(
        since.len(),
        4,
        "the rename, the deletion, /other, and the cut itself"
    );
    assert!(since.iter().all(|v| v.created_at >= cut));
    let until = s
        .list_versions(
            &st,
            &VersionQuery {
                created_at_lte: Some(cut),
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .data;
    assert_eq!(until.len(), 2);
    let stores = s
        .list_stores(&StoreQuery {
            created_at_gte: Some(cut),
            ..Default::default()
        })
        .await
        .unwrap()
        .data;
    assert!(
        !stores.iter().any(|x| x.id == st),
        "the store was created before the cut"
    );
    let stores = s
        .list_stores(&StoreQuery {
            created_at_lte: Some(cut),
            ..Default::default()
        })
        .await
        .unwrap()
        .data;
    assert!(stores.iter().any(|x| x.id == st));
}

async fn redaction(s: Arc<dyn Store>) {
    let st = new_store(&*s, "x").await;
    let m = s
        .create_memory(&st, "/secret", "api key sk-live-123", &user())
        .await
        .unwrap();
    let err = s
        .redact_version(&st, &m.memory_version_id, &user())
        .await
        .unwrap_err();
    assert_eq!(err.error_type(), ErrorType::InvalidRequest);
    assert!(err.to_string().contains("current content"), "{err}");
    s.update_memory(
        &st,
        &m.id,
        MemoryPatch {
            content: Some("api key [removed]".into()),
            ..Default::default()
        },
        &user(),
    )
    .await
    .unwrap();
    let admin = common::user();
    let red = s
        .redact_version(&st, &m.memory_version_id, &admin)
        .await
        .unwrap();
    assert!(red.redacted_at.is_some());
    assert_eq!(red.redacted_by, Some(admin.clone()));
    assert_eq!(
        (
            red.content,
            red.path,
            red.content_sha256,
            red.content_size_bytes
        ),
        (None, None, None, None)
    );
    assert_eq!(red.created_by, Some(user()), "redaction keeps the author");
    let again = s.get_version(&st, &m.memory_version_id).await.unwrap();
    assert!(again.content.is_none() && again.redacted_at.is_some());
    assert_eq!(
        s.redact_version(&st, &m.memory_version_id, &admin)
            .await
            .unwrap_err()
            .error_type(),
        ErrorType::InvalidRequest
    );
    // A redacted state cannot be restored.
    let err = s
        .restore_memory(&st, &m.id, &m.memory_version_id, &user())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("redacted"), "{err}");
    assert!(s.check_integrity(&st).await.unwrap().is_empty());
}

async fn revisions_and_state_at(s: Arc<dyn Store>) {
    let st = new_store(&*s, "rev").await;
    let a = s.create_memory(&st, "/a", "1", &user()).await.unwrap(); // r1
    s.create_memory(&st, "/b", "2", &user()).await.unwrap(); // r2
    s.update_memory(
        &st,
        &a.id,
        MemoryPatch {
            content: Some("3".into()),
            ..Default::default()
        },
        &user(),
    )
    .await
    .unwrap(); // r3
    s.delete_memory(&st, &a.id, None, &user()).await.unwrap(); // r4
    assert_eq!(s.get_store(&st).await.unwrap().revision, 4);
    let revs = s.list_revisions(&st, None, None).await.unwrap().data;
    assert_eq!(
        revs.iter().map(|r| r.revision).collect::<Vec<_>>(),
        vec![4, 3, 2, 1]
    );
    assert_eq!(revs[0].summary, "delete /a");
    assert_eq!(revs[0].created_by, Some(user()));

    let at = |r| {
        let s = s.clone();
        let st = st.clone();
        async move {
            let mut v: Vec<(String, Operation, Option<String>)> = s
                .state_at(&st, r)
                .await
                .unwrap()
                .into_iter()
                .map(|v| (v.path.unwrap(), v.operation, v.content))
                .collect();
            v.sort();
            v
        }
    };
    assert!(at(0).await.is_empty());
    assert_eq!(
        at(1).await,
        vec![("/a".into(), Operation::Created, Some("1".into()))]
    );
    assert_eq!(
        at(3).await,
        vec![
            ("/a".into(), Operation::Modified, Some("3".into())),
            ("/b".into(), Operation::Created, Some("2".into()))
        ]
    );
    assert_eq!(at(4).await[0].1, Operation::Deleted);
    assert_eq!(
        s.state_at(&st, 5).await.unwrap_err().error_type(),
        ErrorType::InvalidRequest
    );
    assert_eq!(
        s.state_at(&st, -1).await.unwrap_err().error_type(),
        ErrorType::InvalidRequest
    );
}

async fn restore_memory_and_store(s: Arc<dyn Store>) {
    let st = new_store(&*s, "restore").await;
    let a = s.create_memory(&st, "/a", "a1", &user()).await.unwrap(); // r1
    let b = s.create_memory(&st, "/b", "b1", &user()).await.unwrap(); // r2
    let a2 = s
        .update_memory(
            &st,
            &a.id,
            MemoryPatch {
                content: Some("a2".into()),
                path: Some("/a2".into()),
                ..Default::default()
            },
            &user(),
        )
        .await
        .unwrap(); // r3
    s.delete_memory(&st, &b.id, None, &user()).await.unwrap(); // r4
    let c = s
        .create_memory(&st, "/c", "c1", &session("sesn_bad"))
        .await
        .unwrap(); // r5

    // One memory back to an old version: content and path, as a new version.
    let r = s
        .restore_memory(&st, &a.id, &a.memory_version_id, &user())
        .await
        .unwrap();
    assert_eq!(r.revision, Some(6));
    assert_eq!(r.modified, vec![a.id.clone()]);
    let back = s.get_memory(&st, &a.id).await.unwrap();
    assert_eq!(
        (back.path.as_str(), back.content.as_deref()),
        ("/a", Some("a1"))
    );
    assert_ne!(
        back.memory_version_id, a.memory_version_id,
        "history is never rewritten"
    );
    // A deleted memory comes back with its id.
    let r = s
        .restore_memory(&st, &b.id, &b.memory_version_id, &user())
        .await
        .unwrap();
    assert_eq!(r.recreated, vec![b.id.clone()]);
    assert_eq!(
        s.get_memory(&st, &b.id).await.unwrap().content.as_deref(),
        Some("b1")
    );
    // Restoring to the current state changes nothing.
    let cur = s.get_memory(&st, &b.id).await.unwrap();
    let r = s
        .restore_memory(&st, &b.id, &cur.memory_version_id, &user())
        .await
        .unwrap();
    assert_eq!((r.revision, r.changed()), (None, 0));
    // A version of another memory is refused.
    let err = s
        .restore_memory(&st, &a.id, &b.memory_version_id, &user())
        .await
        .unwrap_err();
    assert_eq!(err.error_type(), ErrorType::InvalidRequest);

    // The whole store back to revision 3: a at /a2 with a2, b alive, c gone.
    let rev_before = s.get_store(&st).await.unwrap().revision; // 7
    let r = s.restore_store(&st, 3, &user()).await.unwrap();
    assert_eq!(r.revision, Some(rev_before + 1));
    let state: BTreeMap<String, String> = list_all(&*s, &st).await;
    assert_eq!(
        state,
        BTreeMap::from([("/a2".into(), "a2".into()), ("/b".into(), "b1".into())])
    );
    assert_eq!(s.get_memory_by_path(&st, "/a2").await.unwrap().id, a2.id);
    assert!(r.deleted.contains(&c.id));
    // ...and the restore itself can be undone.
    let r = s.restore_store(&st, rev_before, &user()).await.unwrap();
    assert!(r.revision.is_some());
    let state = list_all(&*s, &st).await;
    assert_eq!(
        state,
        BTreeMap::from([
            ("/a".into(), "a1".into()),
            ("/b".into(), "b1".into()),
            ("/c".into(), "c1".into())
        ])
    );
    assert_eq!(
        s.get_memory_by_path(&st, "/c").await.unwrap().id,
        c.id,
        "ids survive a round trip"
    );
    // Back to the empty store, and a swap of two paths.
    s.restore_store(&st, 0, &user()).await.unwrap();
    assert!(list_all(&*s, &st).await.is_empty());
    let x = s.create_memory(&st, "/x", "X", &user()).await.unwrap();
    let y = s.create_memory(&st, "/y", "Y", &user()).await.unwrap();
    let before_swap = s.get_store(&st).await.unwrap().revision;
    s.update_memory(
        &st,
        &x.id,
        MemoryPatch {
            path: Some("/tmp".into()),
            ..Default::default()
        },
        &user(),
    )
    .await
    .unwrap();
    s.update_memory(
        &st,
        &y.id,
        MemoryPatch {
            path: Some("/x".into()),
            ..Default::default()
        },
        &user(),
    )
    .await
    .unwrap();
    s.update_memory(
        &st,
        &x.id,
        MemoryPatch {
            path: Some("/y".into()),
            ..Default::default()
        },
        &user(),
    )
    .await
    .unwrap();
    s.restore_store(&st, before_swap, &user()).await.unwrap();
    assert_eq!(s.get_memory_by_path(&st, "/x").await.unwrap().id, x.id);
    assert_eq!(s.get_memory_by_path(&st, "/y").await.unwrap().id, y.id);
    assert!(s.check_integrity(&st).await.unwrap().is_empty());
    assert_eq!(
        s.restore_store(&st, 999, &user())
            .await
            .unwrap_err()
            .error_type(),
        ErrorType::InvalidRequest
    );
}

async fn list_all(s: &dyn Store, st: &str) -> BTreeMap<String, String> {
    let page = s
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
    page.data
        .into_iter()
        .map(|i| match i {
            ListItem::Memory(m) => (m.path, m.content.unwrap()),
            ListItem::Prefix(p) => panic!("unexpected prefix {}", p.path),
        })
        .collect()
}

async fn archived_store_is_read_only(s: Arc<dyn Store>) {
    let st = new_store(&*s, "arch").await;
    let m = s.create_memory(&st, "/a", "1", &user()).await.unwrap();
    let m2 = s.create_memory(&st, "/b", "1", &user()).await.unwrap();
    s.update_memory(
        &st,
        &m2.id,
        MemoryPatch {
            content: Some("2".into()),
            ..Default::default()
        },
        &user(),
    )
    .await
    .unwrap();
    s.archive_store(&st).await.unwrap();
    let rev = s.get_store(&st).await.unwrap().revision;
    let conflict = |e: Error| {
        assert_eq!(e.error_type(), ErrorType::Conflict, "{e}");
        assert!(e.to_string().contains("archived"), "{e}");
    };
    conflict(s.create_memory(&st, "/c", "x", &user()).await.unwrap_err());
    conflict(
        s.update_memory(
            &st,
            &m.id,
            MemoryPatch {
                content: Some("x".into()),
                ..Default::default()
            },
            &user(),
        )
        .await
        .unwrap_err(),
    );
    conflict(
        s.update_store(
            &st,
            StorePatch {
                name: Some("n".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap_err(),
    );
    conflict(s.restore_store(&st, 0, &user()).await.unwrap_err());
    let cmd = Command::Create {
        path: "/memories/z".into(),
        file_text: "z".into(),
    };
    conflict(s.memory_tool(&st, &cmd, &user()).await.unwrap_err());
    assert_eq!(
        s.get_store(&st).await.unwrap().revision,
        rev,
        "refused writes leave no revision"
    );
    assert_eq!(
        s.archive_store(&st).await.unwrap_err().error_type(),
        ErrorType::InvalidRequest
    );
    // Reads, deletes and redaction still work.
    assert_eq!(
        s.get_memory(&st, &m.id).await.unwrap().content.as_deref(),
        Some("1")
    );
    let view = Command::View {
        path: "/memories".into(),
        view_range: None,
    };
    assert!(!s.memory_tool(&st, &view, &user()).await.unwrap().is_error);
    s.redact_version(&st, &m2.memory_version_id, &user())
        .await
        .unwrap();
    s.delete_memory(&st, &m.id, None, &user()).await.unwrap();
}

async fn memory_limit_per_store(s: Arc<dyn Store>) {
    let st = s
        .create_store(NewStore {
            name: "small".into(),
            max_memories: Some(3),
            ..Default::default()
        })
        .await
        .unwrap()
        .id;
    for i in 0..3 {
        s.create_memory(&st, &format!("/{i}"), "x", &user())
            .await
            .unwrap();
    }
    let rev = s.get_store(&st).await.unwrap().revision;
    let err = s.create_memory(&st, "/3", "x", &user()).await.unwrap_err();
    assert_eq!(err.error_type(), ErrorType::InvalidRequest);
    assert!(err.to_string().contains("holds 3 memories"), "{err}");
    assert_eq!(s.get_store(&st).await.unwrap().revision, rev);
    assert_eq!(
        s.list_memories(&st, &MemoryQuery::default())
            .await
            .unwrap()
            .data
            .len(),
        3
    );
    // The limit is the store's own: raise it and the write goes through.
    s.update_store(
        &st,
        StorePatch {
            max_memories: Some(4),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    s.create_memory(&st, "/3", "x", &user()).await.unwrap();
}

async fn memory_tool_through_the_store(s: Arc<dyn Store>) {
    let st = new_store(&*s, "tool").await;
    let run = |v: serde_json::Value| {
        let s = s.clone();
        let st = st.clone();
        async move {
            s.memory_tool(&st, &Command::from_value(v).unwrap(), &session("sesn_tool"))
                .await
                .unwrap()
        }
    };
    let out = run(
        json!({"command": "create", "path": "/memories/prefs.md", "file_text": "- dark mode\n"}),
    )
    .await;
    assert_eq!(
        out.content,
        "File created successfully at: /memories/prefs.md"
    );
    assert_eq!(out.revision, Some(1));
    let m = s.get_memory_by_path(&st, "/prefs.md").await.unwrap();
    let v = s.get_version(&st, &m.memory_version_id).await.unwrap();
    assert_eq!(v.created_by, Some(session("sesn_tool")));
    let out = run(json!({"command": "str_replace", "path": "/memories/prefs.md", "old_str": "dark", "new_str": "light"})).await;
    assert!(!out.is_error, "{}", out.content);
    assert_eq!(
        s.get_memory(&st, &m.id).await.unwrap().content.as_deref(),
        Some("- light mode\n")
    );
    let out = run(json!({"command": "rename", "old_path": "/memories/prefs.md", "new_path": "/memories/user/prefs.md"})).await;
    assert!(!out.is_error);
    assert_eq!(
        s.get_memory(&st, &m.id).await.unwrap().path,
        "/user/prefs.md",
        "rename keeps the id"
    );
    // A read changes nothing; an error that leaves no trace writes no revision.
    let rev = s.get_store(&st).await.unwrap().revision;
    let out = run(json!({"command": "view", "path": "/memories/user"})).await;
    assert_eq!(out.revision, None);
    assert!(
        out.content.ends_with("13B\t/memories/user/prefs.md"),
        "{}",
        out.content
    );
    let out = run(json!({"command": "delete", "path": "/memories/nope"})).await;
    assert!(out.is_error);
    assert_eq!(out.content, "The path /memories/nope does not exist");
    assert_eq!(s.get_store(&st).await.unwrap().revision, rev);
    // Memories written through the API show up in the tool.
    s.create_memory(&st, "/api/note.md", "from the api", &user())
        .await
        .unwrap();
    let out = run(json!({"command": "view", "path": "/memories/api/note.md"})).await;
    assert_eq!(
        out.content,
        "Here's the content of /memories/api/note.md with line numbers:\n     1\tfrom the api"
    );
    // Deleting the last file keeps its folder, as on a filesystem.
    run(json!({"command": "delete", "path": "/memories/api/note.md"})).await;
    let out = run(json!({"command": "view", "path": "/memories"})).await;
    assert!(
        out.content.contains("4K\t/memories/api/"),
        "{}",
        out.content
    );
    assert!(s.check_integrity(&st).await.unwrap().is_empty());
}

/// `view`, `str_replace` and `insert` of one file read that file alone when the tree shows it
/// there; every answer must be the one the whole tree gives. The store holds the layouts where
/// the tree does not show a memory at its path: a memory below another memory's path, a
/// memory where the tool made a folder, and a non-canonical name beside the canonical one.
async fn memory_tool_one_file_commands_answer_as_the_whole_tree(s: Arc<dyn Store>) {
    use reverie_core::memtool::{Snapshot, SnapshotFile, Step, Vfs, execute};

    let st = new_store(&*s, "onefile").await;
    let tool = |v: serde_json::Value| Command::from_value(v).unwrap();
    // A folder made by the tool, left empty: kept beside the store as a tool-made directory.
    for v in [
        json!({"command": "create", "path": "/memories/d/x.md", "file_text": "x\n"}),
        json!({"command": "delete", "path": "/memories/d/x.md"}),
    ] {
        assert!(
            !s.memory_tool(&st, &tool(v), &user())
                .await
                .unwrap()
                .is_error
        );
    }
    let tool_dirs = vec!["/d".to_string()];
    for (path, content) in [
        ("/a.md", "a file\n"),
        ("/a.md/b.md", "below a file\n"),
        ("/d", "a memory where the tool made a folder\n"),
        ("/%2541.md", "canonical: shows as %41.md\n"),
        ("/%41.md", "not canonical: also %41.md, and loses\n"),
        ("/p/q.md", "one\ntwo\nthree\n"),
        ("/p/r.md", "sibling\n"),
    ] {
        s.create_memory(&st, path, content, &user()).await.unwrap();
    }

    // The whole tree's answer, computed by the pure tool on every memory of the store.
    let whole = |command: Command| {
        let s = s.clone();
        let st = st.clone();
        let tool_dirs = tool_dirs.clone();
        async move {
            let page = s
                .list_memories(
                    &st,
                    &MemoryQuery {
                        view: View::Full,
                        limit: Some(100),
                        ..Default::default()
                    },
                )
                .await
                .unwrap();
            let mut contents = BTreeMap::new();
            let mut files = Vec::new();
            for item in page.data {
                let ListItem::Memory(m) = item else {
                    panic!("a prefix in a flat listing")
                };
                files.push(SnapshotFile {
                    memory_id: m.id.clone(),
                    path: m.path.clone(),
                    size: m.content_size_bytes as u64,
                });
                contents.insert(m.id, m.content.unwrap());
            }
            let mut vfs = Vfs::new(&Snapshot {
                files,
                dirs: tool_dirs,
                max_memories: 2000,
            });
            loop {
                match execute(&vfs, &command) {
                    Step::NeedContent(id) => vfs.load(&id, contents[&id].clone()),
                    Step::Done { result, effects } => return (result, effects),
                }
            }
        }
    };

    let commands = [
        json!({"command": "view", "path": "/memories/a.md/b.md"}),
        json!({"command": "str_replace", "path": "/memories/a.md/b.md", "old_str": "below", "new_str": "under"}),
        json!({"command": "insert", "path": "/memories/a.md/b.md", "insert_line": 0, "insert_text": "x\n"}),
        json!({"command": "view", "path": "/memories/a.md"}),
        json!({"command": "view", "path": "/memories/d"}),
        json!({"command": "insert", "path": "/memories/d", "insert_line": 0, "insert_text": "x\n"}),
        json!({"command": "view", "path": "/memories/%41.md"}),
        json!({"command": "str_replace", "path": "/memories/%41.md", "old_str": "canonical", "new_str": "the canonical one"}),
        json!({"command": "view", "path": "/memories/%2541.md"}),
        json!({"command": "view", "path": "/memories/p/q.md", "view_range": [2, -1]}),
        json!({"command": "view", "path": "/memories/p/./../p/q.md"}),
        json!({"command": "str_replace", "path": "/memories/p/q.md", "old_str": "two", "new_str": "2"}),
        json!({"command": "str_replace", "path": "/memories/p/q.md", "old_str": "absent", "new_str": "x"}),
        json!({"command": "insert", "path": "/memories/p/q.md", "insert_line": 3, "insert_text": "four\n"}),
        json!({"command": "insert", "path": "/memories/p/q.md", "insert_line": 99, "insert_text": "far\n"}),
        json!({"command": "view", "path": "/memories/p/q.md"}),
        json!({"command": "view", "path": "/memories/p/missing.md"}),
        json!({"command": "view", "path": "/memories/../etc/passwd"}),
    ];
    for v in commands {
        let command = tool(v.clone());
        let (want, effects) = whole(command.clone()).await;
        let got = s.memory_tool(&st, &command, &user()).await.unwrap();
        assert_eq!(
            (got.is_error, got.content.as_str()),
            (want.is_error, want.content.as_str()),
            "{v}"
        );
        // What the whole tree would write is what the store holds afterwards.
        for (id, _, content) in effects.updates {
            let now = s.get_memory(&st, &id).await.unwrap().content.unwrap();
            assert_eq!(Some(now), content, "{v}");
        }
        assert!(
            effects.creates.is_empty() && effects.deletes.is_empty(),
            "{v}"
        );
    }
    assert!(s.check_integrity(&st).await.unwrap().is_empty());
}

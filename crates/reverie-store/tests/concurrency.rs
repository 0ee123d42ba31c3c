//! Concurrent writers: with preconditions exactly one of racing writers wins and the others get
//! the 409; without them every write lands; no version is ever lost. The writers use separate
//! connection pools on the same database, as separate processes would.

mod common;

use std::sync::Arc;

use common::{new_store, user};
use reverie_core::{Error, ErrorType};
use reverie_store::{MemoryPatch, Store, VersionQuery};

/// A second, independent handle on the same database.
async fn second_handle(url: &str) -> Arc<dyn Store> {
    reverie_store::open(url).await.unwrap()
}

async fn versions_of(s: &dyn Store, st: &str, mem: &str) -> usize {
    let mut n = 0;
    let mut page = None;
    loop {
        let q = VersionQuery {
            memory_id: Some(mem.into()),
            limit: Some(100),
            page,
            ..Default::default()
        };
        let p = s.list_versions(st, &q).await.unwrap();
        n += p.data.len();
        match p.next_page {
            Some(next) => page = Some(next),
            None => return n,
        }
    }
}

async fn racing_preconditions(a: Arc<dyn Store>, b: Arc<dyn Store>) {
    let st = new_store(&*a, "race").await;
    let m = a
        .create_memory(&st, "/shared.md", "v0", &user())
        .await
        .unwrap();
    for round in 0..20 {
        let current = a.get_memory(&st, &m.id).await.unwrap();
        let writers = 6;
        let mut tasks = Vec::new();
        for w in 0..writers {
            let s = if w % 2 == 0 { a.clone() } else { b.clone() };
            let (st, id, sha) = (st.clone(), m.id.clone(), current.content_sha256.clone());
            tasks.push(tokio::spawn(async move {
                let patch = MemoryPatch {
                    content: Some(format!("round {round} writer {w}")),
                    precondition_content_sha256: Some(sha),
                    ..Default::default()
                };
                s.update_memory(&st, &id, patch, &user()).await
            }));
        }
        let mut wins = Vec::new();
        for (w, t) in tasks.into_iter().enumerate() {
            match t.await.unwrap() {
                Ok(_) => wins.push(w),
                Err(e) => {
                    assert_eq!(e.error_type(), ErrorType::MemoryPreconditionFailed, "{e}");
                    assert!(matches!(e, Error::PreconditionFailed { .. }));
                }
            }
        }
        assert_eq!(
            wins.len(),
            1,
            "round {round}: exactly one writer wins, got {wins:?}"
        );
        let now = a.get_memory(&st, &m.id).await.unwrap();
        assert_eq!(
            now.content.unwrap(),
            format!("round {round} writer {}", wins[0])
        );
    }
    assert_eq!(
        versions_of(&*a, &st, &m.id).await,
        21,
        "the creation and one version per round"
    );
    assert!(a.check_integrity(&st).await.unwrap().is_empty());
}

async fn racing_creates(a: Arc<dyn Store>, b: Arc<dyn Store>) {
    let st = new_store(&*a, "create-race").await;
    for round in 0..10 {
        let path = format!("/same-{round}.md");
        let mut tasks = Vec::new();
        for w in 0..6 {
            let s = if w % 2 == 0 { a.clone() } else { b.clone() };
            let (st, path) = (st.clone(), path.clone());
            tasks.push(tokio::spawn(async move {
                s.create_memory(&st, &path, &format!("{w}"), &user()).await
            }));
        }
        let mut ok = 0;
        for t in tasks {
            match t.await.unwrap() {
                Ok(_) => ok += 1,
                Err(e) => assert_eq!(e.error_type(), ErrorType::MemoryPathConflict, "{e}"),
            }
        }
        assert_eq!(ok, 1, "round {round}");
    }
    assert!(a.check_integrity(&st).await.unwrap().is_empty());
}

async fn unconditional_writes_all_land(a: Arc<dyn Store>, b: Arc<dyn Store>) {
    let st = new_store(&*a, "all-land").await;
    let m = a
        .create_memory(&st, "/counter", "0", &user())
        .await
        .unwrap();
    let (writers, each) = (4, 15);
    let mut tasks = Vec::new();
    for w in 0..writers {
        let s = if w % 2 == 0 { a.clone() } else { b.clone() };
        let (st, id) = (st.clone(), m.id.clone());
        tasks.push(tokio::spawn(async move {
            for i in 0..each {
                let patch = MemoryPatch {
                    content: Some(format!("{w}-{i}")),
                    ..Default::default()
                };
                s.update_memory(&st, &id, patch, &user()).await.unwrap();
                // Unrelated writes to the same store interleave with them.
                s.create_memory(&st, &format!("/w{w}/{i}"), "x", &user())
                    .await
                    .unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(versions_of(&*a, &st, &m.id).await, 1 + writers * each);
    let store = a.get_store(&st).await.unwrap();
    assert_eq!(
        store.revision,
        1 + 2 * (writers * each) as i64,
        "one revision per write, none lost"
    );
    assert!(a.check_integrity(&st).await.unwrap().is_empty());
}

/// Reads by id and by path see every write that returned, through either handle (SQLite's
/// reads run on their own connections, beside the driver's), and a path a rename left is free
/// at once; meanwhile another task reads as fast as it can and never sees a memory go back to
/// an older content.
async fn reads_see_every_committed_write(a: Arc<dyn Store>, b: Arc<dyn Store>) {
    let st = new_store(&*a, "fresh-reads").await;
    let m = a.create_memory(&st, "/n.md", "v0", &user()).await.unwrap();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let reader = {
        let (b, st, id, stop) = (b.clone(), st.clone(), m.id.clone(), stop.clone());
        tokio::spawn(async move {
            let mut last = 0u32;
            let mut reads = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let got = b.get_memory(&st, &id).await.unwrap();
                let n: u32 = got.content.unwrap()[1..].parse().unwrap();
                assert!(n >= last, "read v{n} after v{last}");
                last = n;
                reads += 1;
                tokio::task::yield_now().await;
            }
            reads
        })
    };
    for i in 1..=60u32 {
        let (w, r) = if i % 2 == 0 { (&a, &b) } else { (&b, &a) };
        let path = format!("/n{}.md", i % 3);
        w.update_memory(
            &st,
            &m.id,
            MemoryPatch {
                content: Some(format!("v{i}")),
                path: Some(path.clone()),
                ..Default::default()
            },
            &user(),
        )
        .await
        .unwrap();
        for s in [r, w] {
            let by_id = s.get_memory(&st, &m.id).await.unwrap();
            assert_eq!(by_id.content.as_deref(), Some(format!("v{i}").as_str()));
            assert_eq!(by_id.path, path);
            let by_path = s.get_memory_by_path(&st, &path).await.unwrap();
            assert_eq!(by_path.id, m.id);
            assert_eq!(by_path.content.as_deref(), Some(format!("v{i}").as_str()));
            // The path it left is free at once.
            let old = format!("/n{}.md", (i + 2) % 3);
            if old != path {
                assert_eq!(
                    s.get_memory_by_path(&st, &old)
                        .await
                        .unwrap_err()
                        .error_type(),
                    ErrorType::NotFound
                );
            }
        }
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    assert!(reader.await.unwrap() > 0);
    // A missing memory and a missing store are still told apart.
    let other = new_store(&*a, "other").await;
    assert!(matches!(
        b.get_memory(&other, &m.id).await.unwrap_err(),
        Error::NotFound { kind: "memory", .. }
    ));
    let gone = "memstore_01NoSuchStoreAtAll0000";
    assert!(matches!(
        b.get_memory(gone, &m.id).await.unwrap_err(),
        Error::NotFound {
            kind: "memory store",
            ..
        }
    ));
    assert!(matches!(
        b.list_entries(gone, None).await.unwrap_err(),
        Error::NotFound {
            kind: "memory store",
            ..
        }
    ));
    assert!(b.list_entries(&other, None).await.unwrap().is_empty());
}

macro_rules! race_tests {
    ($($name:ident),+) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn sqlite() {
                    let fresh = crate::common::sqlite().await;
                    let b = crate::second_handle(&fresh.url).await;
                    super::$name(fresh.store.clone(), b).await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn postgres() {
                    let fresh = crate::common::postgres().await;
                    let b = crate::second_handle(&fresh.url).await;
                    super::$name(fresh.store.clone(), b).await;
                }
            }
        )+
    };
}

race_tests!(
    racing_preconditions,
    racing_creates,
    unconditional_writes_all_land,
    reads_see_every_committed_write
);
